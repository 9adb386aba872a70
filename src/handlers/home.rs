//! The home page: the workspace for full-time and seasonal users, the
//! collaborator's minimal home for collaborators.

use actix_web::{HttpResponse, web};
use askama::Template;

use crate::auth::CurrentUser;
use crate::error::AppResult;
use crate::models::directory::{self, ConversationCounts};
use crate::models::team::Team;
use crate::pages::{Ctx, html_with_status};
use crate::policy::{self, COLLABORATOR_FLAGS, ConversationScope, Flag, ScopeRule};
use crate::state::AppState;

pub struct TeamRow {
    pub name: String,
    pub members: i64,
}

#[derive(Template)]
#[template(path = "pages/home_workspace.html")]
struct WorkspaceHome {
    ctx: Ctx,
    first_name: String,
    role_label: String,
    teams: Vec<TeamRow>,
    counts: ConversationCounts,
    customers: i64,
    scope_key: &'static str,
}

/// A note that mentioned the collaborator: what they were asked about.
pub struct MentionRow {
    pub link: String,
    pub subject: String,
    pub actor: String,
    pub when: String,
    pub unread: bool,
}

/// How many mentions the collaborator's home lists.
const HOME_MENTIONS: usize = 10;

#[derive(Template)]
#[template(path = "pages/home_collaborator.html")]
struct CollaboratorHome {
    ctx: Ctx,
    mentions: Vec<MentionRow>,
    first_name: String,
    teams: Vec<TeamRow>,
    counts: ConversationCounts,
    scope_key: &'static str,
    capabilities: Vec<&'static str>,
}

fn scope_key(rule: &ScopeRule) -> &'static str {
    match rule {
        ScopeRule::AllConversations => "home.scope.all",
        ScopeRule::AccessSetToTeams | ScopeRule::RoleViewsTeamsOnly => "home.scope.teams",
        ScopeRule::NoViewPermission => "home.scope.none",
    }
}

pub async fn show(current: CurrentUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let (scope, rule) = policy::conversation_scope(&current.actor);
    let user_id = current.user.id;
    let can_view_customers =
        policy::can(&current.actor, policy::Action::Use(Flag::CustomersView)).allowed;
    let collaborator = current.actor.is_collaborator();
    let task_reader = crate::models::task::TaskReader::for_actor(user_id, &current.actor);
    let (teams, counts, customers, mentions) = state
        .db(move |conn| {
            let teams = Team::of_user_with_sizes(conn, user_id)?
                .into_iter()
                .map(|(team, members)| TeamRow {
                    name: team.name,
                    members,
                })
                .collect::<Vec<_>>();
            let counts = if scope == ConversationScope::None {
                ConversationCounts::default()
            } else {
                directory::conversation_counts(conn, &scope, user_id)?
            };
            let customers = if can_view_customers {
                directory::customer_count(conn)?
            } else {
                0
            };
            // Collaborators' home starts with what they were asked about
            // (within what they may see, as the notifications list).
            let mentions = if collaborator {
                crate::models::notification::recent(conn, user_id, &scope, &task_reader, 50)?
                    .into_iter()
                    .filter(|line| line.kind == "mention")
                    .take(HOME_MENTIONS)
                    .collect()
            } else {
                Vec::new()
            };
            Ok((teams, counts, customers, mentions))
        })
        .await?;
    let first_name = current
        .user
        .name
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    let ctx = Ctx::for_user(&current, "home");
    if current.actor.is_collaborator() {
        let capabilities = COLLABORATOR_FLAGS
            .iter()
            .filter(|f| !matches!(f, Flag::ConversationsViewAll | Flag::ConversationsViewTeam))
            .map(|f| f.key())
            .collect();
        let mentions = mentions
            .into_iter()
            .map(|line| MentionRow {
                link: line.link,
                subject: line.subject,
                actor: line.actor_name.unwrap_or_default(),
                when: crate::pages::format_datetime(line.created_at, current.tz, current.tr),
                unread: line.read_at.is_none(),
            })
            .collect();
        return html_with_status(
            &CollaboratorHome {
                ctx,
                mentions,
                first_name,
                teams,
                counts,
                scope_key: scope_key(&rule),
                capabilities,
            },
            actix_web::http::StatusCode::OK,
        );
    }
    let role_label = current
        .role
        .as_ref()
        .map(|r| {
            if r.builtin {
                ctx.t.get(&format!("role.{}", r.key)).to_string()
            } else {
                r.name.clone()
            }
        })
        .unwrap_or_default();
    html_with_status(
        &WorkspaceHome {
            ctx,
            first_name,
            role_label,
            teams,
            counts,
            customers,
            scope_key: scope_key(&rule),
        },
        actix_web::http::StatusCode::OK,
    )
}
