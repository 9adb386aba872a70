//! "Can this user see that conversation?" on a user's page: the viewer
//! names a conversation (its number, or words to find it among those the
//! viewer sees) and reads whether the user sees it and the rules that
//! decide — whether they can sign in, then `policy::sees_conversation`,
//! the rule every list applies in SQL.

use super::*;
use crate::models::conversation::{self, Reader};
use crate::models::grant;
use crate::models::user::AccessState;
use crate::policy::SightRule;

/// The query string of a user's page.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ShowQuery {
    pub notice: Option<String>,
    /// A conversation's number (`12` or `#12`) or words from its subject.
    pub conversation: String,
}

/// The answer for one conversation.
pub struct Verdict {
    pub id: i64,
    pub visible: bool,
    pub headline: String,
    pub reasons: Vec<String>,
}

/// What the explainer shows for what was asked.
pub struct Explained {
    pub asked: String,
    pub verdict: Option<Verdict>,
    /// Conversations the words found (the viewer's own scope): (id, subject).
    pub matches: Vec<(i64, String)>,
    /// Nothing found, said in words.
    pub message: Option<String>,
}

/// How many conversations words may find.
const MATCHES: usize = 10;

pub(super) async fn explain(
    current: &CurrentUser,
    state: &AppState,
    loaded: &Loaded,
    asked: &str,
) -> AppResult<Explained> {
    let t = current.tr;
    let asked = asked.trim().to_string();
    let number = asked.trim_start_matches('#').trim().parse::<i64>().ok();
    let (scope, _) = policy::conversation_scope(&current.actor);
    let (viewer, viewer_teams) = (current.user.id, current.actor.team_ids.clone());
    let words = asked.clone();
    let found = state
        .db(move |conn| {
            let reader = Reader {
                scope: &scope,
                user_id: viewer,
                team_ids: &viewer_teams,
            };
            match number {
                Some(id) => {
                    let Some(found) = conversation::find_visible(conn, &reader, id)? else {
                        return Ok((None, Vec::new()));
                    };
                    let team = match found.team_id {
                        Some(team) => Team::find(conn, team)?.map(|t| t.name),
                        None => None,
                    };
                    let grants = grant::in_force_for(conn, found.id, found.customer_id)?;
                    Ok((
                        Some(Asked {
                            conversation: found,
                            team,
                            grants,
                        }),
                        Vec::new(),
                    ))
                }
                None => {
                    let found = crate::search::conversations(
                        conn,
                        &words,
                        &scope,
                        crate::search::Order::Newest,
                        None,
                        MATCHES,
                        |conn, ids| {
                            conversation::rows_among(
                                conn,
                                &reader,
                                &conversation::Filter::default(),
                                ids,
                            )
                        },
                        |row: &conversation::Row| row.id,
                    )?;
                    Ok((
                        None,
                        found.rows.into_iter().map(|r| (r.id, r.subject)).collect(),
                    ))
                }
            }
        })
        .await?;
    Ok(match (number, found) {
        (Some(_), (Some(one), _)) => Explained {
            verdict: Some(verdict(current, loaded, one, state.clock.now())),
            matches: Vec::new(),
            message: None,
            asked,
        },
        (Some(id), _) => Explained {
            message: Some(t.fmt("users.see.not_found", &[("id", &id.to_string())])),
            verdict: None,
            matches: Vec::new(),
            asked,
        },
        (None, (_, matches)) => Explained {
            message: matches
                .is_empty()
                .then(|| t.fmt("users.see.no_matches", &[("words", &asked)])),
            verdict: None,
            matches,
            asked,
        },
    })
}

/// A conversation asked about, with what decides who sees it.
struct Asked {
    conversation: conversation::Conversation,
    team: Option<String>,
    grants: Vec<grant::Shown>,
}

/// Whether the user sees the conversation, and each rule that decides.
fn verdict(current: &CurrentUser, loaded: &Loaded, asked: Asked, now: NaiveDateTime) -> Verdict {
    let t = current.tr;
    let user = &loaded.user;
    let mut reasons = Vec::new();
    let date = |day| crate::pages::format_date(day, t);
    let can_sign_in = match user.access_state(current.today(now)) {
        AccessState::Allowed => true,
        AccessState::Deactivated => {
            reasons.push(t.get("users.see.deactivated").to_string());
            false
        }
        AccessState::NoPassword => {
            reasons.push(t.get("users.see.pending").to_string());
            false
        }
        AccessState::WindowNotStarted(day) => {
            reasons.push(t.fmt("users.see.window_not_started", &[("date", &date(day))]));
            false
        }
        AccessState::WindowEnded(day) => {
            reasons.push(t.fmt("users.see.window_ended", &[("date", &date(day))]));
            false
        }
    };
    let Asked {
        conversation,
        team,
        grants,
    } = asked;
    let team_name = team.unwrap_or_default();
    let (sees, rule) = policy::sees_conversation(&loaded.actor, conversation.placement());
    let scope = |why| crate::pages::explain_scope(why, t);
    match &rule {
        SightRule::AllConversations => reasons.push(t.get("rule.scope.all").to_string()),
        SightRule::InTheirTeam { why, .. } => {
            reasons.push(t.fmt("users.see.in_team", &[("team", &team_name)]));
            reasons.push(scope(why));
        }
        SightRule::OutsideTheirTeams {
            team_id: Some(_),
            why,
        } => {
            reasons.push(t.fmt("users.see.other_team", &[("team", &team_name)]));
            reasons.push(scope(why));
        }
        SightRule::OutsideTheirTeams { team_id: None, why } => {
            reasons.push(t.get("users.see.no_team").to_string());
            reasons.push(scope(why));
        }
        SightRule::Granted { .. } => reasons.extend(
            grants
                .iter()
                .filter(|g| g.grant.user_id == user.id)
                .map(|g| crate::handlers::conversations::grant_line(g, current, t)),
        ),
        SightRule::NoViewPermission => reasons.push(t.get("rule.scope.none").to_string()),
    }
    let visible = can_sign_in && sees;
    let key = if visible {
        "users.see.yes"
    } else {
        "users.see.no"
    };
    Verdict {
        id: conversation.id,
        headline: t.fmt(
            key,
            &[("name", &user.name), ("subject", &conversation.subject)],
        ),
        visible,
        reasons,
    }
}
