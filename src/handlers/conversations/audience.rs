//! "Who can see this": every active user who sees a conversation, grouped
//! by the rule that lets them (`policy::sees_conversation`, as the lists
//! apply it), collaborators marked. For those who may view users.

use super::*;
use crate::models::people::{self, Seer};
use crate::policy::SightRule;

#[derive(Template)]
#[template(path = "pages/conversation_audience.html")]
struct AudiencePage {
    ctx: Ctx,
    id: i64,
    subject: String,
    groups: Vec<AudienceGroup>,
    total: usize,
}

/// People let in by one rule.
struct AudienceGroup {
    heading: String,
    why: String,
    people: Vec<Seer>,
}

pub async fn audience(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::UsersView))?;
    let (scope, user_id, team_ids) = reader(&current);
    let (org, now, id) = (current.org.clone(), state.clock.now(), *id);
    let (conversation, team, seers) = state
        .db(move |conn| {
            let reader = Reader {
                scope: &scope,
                user_id,
                team_ids: &team_ids,
            };
            // Not visible and not existing look the same: 404.
            let conversation =
                conversation::find_visible(conn, &reader, id)?.ok_or(AppError::NotFound)?;
            let team = match conversation.team_id {
                Some(team) => Team::find(conn, team)?.map(|t| t.name),
                None => None,
            };
            let seers = people::audience(conn, &org, conversation.team_id, now)?;
            Ok((conversation, team, seers))
        })
        .await?;
    let t = current.tr;
    let team = team.unwrap_or_default();
    let total = seers.len();
    let mut groups: Vec<AudienceGroup> = Vec::new();
    for seer in seers {
        let (heading, why) = match &seer.rule {
            SightRule::AllConversations => (
                t.get("conversation.audience.all").to_string(),
                t.get("rule.scope.all").to_string(),
            ),
            SightRule::InTheirTeam { why, .. } => (
                t.fmt("conversation.audience.team", &[("team", &team)]),
                crate::pages::explain_scope(why, t),
            ),
            // `audience` holds only those who see it.
            SightRule::OutsideTheirTeams { .. } | SightRule::NoViewPermission => continue,
        };
        match groups
            .iter_mut()
            .find(|g| g.heading == heading && g.why == why)
        {
            Some(group) => group.people.push(seer),
            None => groups.push(AudienceGroup {
                heading,
                why,
                people: vec![seer],
            }),
        }
    }
    let page = AudiencePage {
        ctx: Ctx::for_user(&current, "conversations"),
        id,
        subject: conversation.subject,
        groups,
        total,
    };
    html_with_status(&page, StatusCode::OK)
}
