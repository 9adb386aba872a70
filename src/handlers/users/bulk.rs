//! Bulk changes on Settings > Users: the users chosen on the list (or every
//! user its filters match), one change, a preview of each user's outcome
//! (the policy decides per user), then one transaction applying the rows
//! that may change; all through `services::user_batch`.

use super::*;
use crate::policy::ConversationAccess;
use crate::services::user_batch::{self, Batch, Change, Item, ItemResult, Refused};

/// A user of the preview or the result, ready to print.
pub struct BulkRow {
    pub id: i64,
    pub name: String,
    pub email: String,
    /// `changed`, `unchanged` or `refused`.
    pub outcome: &'static str,
    /// "Will change", "Changed", "Already so", "Refused".
    pub label: &'static str,
    /// Why it was refused.
    pub reason: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/users_bulk.html")]
struct BulkPage {
    ctx: Ctx,
    /// Whether this is what applying would do, or what it did.
    preview: bool,
    /// What the change is, in words.
    change: String,
    rows: Vec<BulkRow>,
    changed: usize,
    unchanged: usize,
    refused: usize,
    /// The form's fields to post again to apply (the users by id).
    carry: Vec<(String, String)>,
    errors: FieldErrors,
}

/// The change a submission describes, and what is missing from it.
fn change_of(pairs: &[(String, String)], t: Tr) -> (Option<Change>, FieldErrors) {
    let value = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let ids = |key: &str| -> Vec<i64> {
        pairs
            .iter()
            .filter(|(k, _)| k == key)
            .filter_map(|(_, v)| v.trim().parse().ok())
            .collect()
    };
    let mut errors = FieldErrors::default();
    let mut missing = |field: &'static str, key: &str| {
        errors.add(field, t.get(key));
        None
    };
    let change = match value("action").as_str() {
        "role" => match value("role_id").parse() {
            Ok(id) => Some(Change::Role(id)),
            Err(_) => missing("role_id", "users.bulk.error.choose_role"),
        },
        action @ ("add_teams" | "remove_teams") => match ids("team_ids") {
            teams if teams.is_empty() => missing("team_ids", "users.bulk.error.choose_teams"),
            teams if action == "add_teams" => Some(Change::AddTeams(teams)),
            teams => Some(Change::RemoveTeams(teams)),
        },
        "access" => match ConversationAccess::parse(&value("access")) {
            Some(access) => Some(Change::Access(access)),
            None => missing("access", "users.bulk.error.choose_access"),
        },
        "type" => match UserType::parse(&value("user_type")) {
            Some(user_type) => Some(Change::Type {
                user_type,
                role_id: value("role_id").parse().ok(),
            }),
            None => missing("user_type", "users.bulk.error.choose_type"),
        },
        "resend" => Some(Change::ResendInvitation),
        "revoke" => Some(Change::RevokeInvitation),
        "deactivate" => Some(Change::Deactivate {
            reassign_to: value("reassign_to").parse().ok(),
        }),
        _ => missing("action", "users.bulk.error.choose_action"),
    };
    (change, errors)
}

/// The change in words: "Role: Manager", "Add to teams: Billing".
fn describe(change: &Change, roles: &[Role], teams: &[Team], t: Tr) -> String {
    let role = |id: &i64| {
        roles
            .iter()
            .find(|r| r.id == *id)
            .map(|r| role_label(r, t))
            .unwrap_or_default()
    };
    let team_names = |ids: &[i64]| {
        teams
            .iter()
            .filter(|team| ids.contains(&team.id))
            .map(|team| team.name.clone())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (key, what) = match change {
        Change::Role(id) => ("users.bulk.describe.role", role(id)),
        Change::AddTeams(ids) => ("users.bulk.describe.add_teams", team_names(ids)),
        Change::RemoveTeams(ids) => ("users.bulk.describe.remove_teams", team_names(ids)),
        Change::Access(access) => (
            "users.bulk.describe.access",
            t.get(&format!("users.access.{}", access.key())).to_string(),
        ),
        Change::Type { user_type, .. } => (
            "users.bulk.describe.type",
            super::list::type_label(t, *user_type).to_string(),
        ),
        Change::ResendInvitation => ("users.bulk.describe.resend", String::new()),
        Change::RevokeInvitation => ("users.bulk.describe.revoke", String::new()),
        Change::Deactivate { .. } => ("users.bulk.describe.deactivate", String::new()),
    };
    t.fmt(key, &[("what", &what)])
}

/// Why a user was left alone, in the reader's language.
fn refusal_text(refused: &Refused, t: Tr) -> String {
    match refused {
        Refused::NotFound => t.get("users.bulk.refused.not_found").to_string(),
        Refused::Denied(_) => t.get("users.bulk.refused.denied").to_string(),
        Refused::Unmanageable(rule) => t.get(rule.key()).to_string(),
        Refused::Refused(refusal) => refusal.message(t),
        Refused::NotApplicable { key, .. } => t.get(key).to_string(),
    }
}

fn rows(items: Vec<Item>, preview: bool, t: Tr) -> Vec<BulkRow> {
    items
        .into_iter()
        .map(|item| {
            let (outcome, label, reason) = match &item.result {
                ItemResult::Changed if preview => ("changed", "users.bulk.will_change", None),
                ItemResult::Changed => ("changed", "users.bulk.changed_one", None),
                ItemResult::Unchanged => ("unchanged", "users.bulk.unchanged", None),
                ItemResult::Refused(refused) => (
                    "refused",
                    "users.bulk.refused",
                    Some(refusal_text(refused, t)),
                ),
            };
            BulkRow {
                id: item.user_id,
                name: item.name,
                email: item.email,
                outcome,
                label: t.get(label),
                reason,
            }
        })
        .collect()
}

/// The users a submission chose: those ticked, or with `all` every user
/// the list's filters (`filter_*`) match, at most `user_batch::MAX_USERS`.
fn chosen_ids(
    conn: &mut crate::db::DbConn,
    pairs: &[(String, String)],
    now: NaiveDateTime,
) -> diesel::QueryResult<Vec<i64>> {
    let value = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.trim().is_empty())
    };
    if value("all").as_deref() == Some("1") {
        let query = ListQuery {
            tab: value("filter_tab"),
            q: value("filter_q"),
            user_type: value("filter_user_type"),
            role: value("filter_role"),
            team: value("filter_team"),
            dormant: value("filter_dormant"),
            ..ListQuery::default()
        };
        let limit = user_batch::MAX_USERS as i64;
        let (users, _) = people::list_users(conn, &query.filter(now), limit)?;
        return Ok(users.into_iter().map(|(u, _)| u.id).collect());
    }
    Ok(pairs
        .iter()
        .filter(|(k, _)| k == "ids")
        .filter_map(|(_, v)| v.parse().ok())
        .take(user_batch::MAX_USERS)
        .collect())
}

/// Previews (`step=preview`, the list's button) or applies (`step=apply`,
/// the preview's button) one change to the chosen users.
pub async fn bulk(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::UsersManage))?;
    let pairs = form_pairs(&body);
    let t = current.tr;
    let preview = pairs.iter().all(|(k, v)| k != "step" || v != "apply");
    let (change, mut errors) = change_of(&pairs, t);
    let who = current.caller(&state, &req);
    let now = who.now;
    let carried = pairs.clone();
    let (ids, items, roles, teams) = state
        .db(move |conn| {
            let ids = chosen_ids(conn, &carried, now)?;
            let items = match &change {
                Some(change) if !ids.is_empty() => {
                    let by = who.by();
                    let batch = Batch {
                        by: &by,
                        org: &who.org,
                        public_url: &who.config.public_url,
                        now,
                    };
                    if preview {
                        Some((
                            change.clone(),
                            user_batch::preview(conn, &batch, &ids, change)?,
                        ))
                    } else {
                        let applied = write_transaction(conn, |conn| {
                            user_batch::apply(conn, &batch, &ids, change)
                        })?;
                        Some((change.clone(), applied))
                    }
                }
                _ => None,
            };
            Ok((ids, items, Role::all(conn)?, Team::all(conn)?))
        })
        .await?;
    if ids.is_empty() {
        errors.add("ids", t.get("users.bulk.error.choose_users"));
    }
    let (change_text, rows) = match items {
        Some((change, items)) => (
            describe(&change, &roles, &teams, t),
            rows(items, preview, t),
        ),
        None => (String::new(), Vec::new()),
    };
    let count = |outcome: &str| rows.iter().filter(|r| r.outcome == outcome).count();
    // Applying posts the same change for exactly the users previewed.
    let mut carry: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| {
            [
                "action",
                "role_id",
                "team_ids",
                "access",
                "user_type",
                "reassign_to",
            ]
            .contains(&k.as_str())
        })
        .cloned()
        .collect();
    carry.extend(ids.iter().map(|id| ("ids".to_string(), id.to_string())));
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    html_with_status(
        &BulkPage {
            ctx: Ctx::for_user(&current, "users"),
            preview,
            change: change_text,
            changed: count("changed"),
            unchanged: count("unchanged"),
            refused: count("refused"),
            rows,
            carry,
            errors,
        },
        status,
    )
}
