//! `POST /api/v1/users/batch`: one change to many users, each decided by
//! the policy on its own, through `services::user_batch` (the same as
//! Settings > Users' bulk changes); `dry_run` answers what would happen.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiError, ApiResult, ApiUser};
use crate::policy::{Action, ConversationAccess, Flag, UserType};
use crate::services::user_batch::{self, Batch, Change, ItemResult, Refused};
use crate::state::AppState;

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchChange {
    /// `role` (needs `role_id`), `add_teams` and `remove_teams` (need
    /// `team_ids`), `conversation_access` (needs `conversation_access`),
    /// `user_type` (needs `user_type`; `role_id` for collaborators who
    /// become full-time), `resend_invitation`, `revoke_invitation`,
    /// `deactivate` (`reassign_to` takes their open conversations; without
    /// it they go back to their teams).
    #[schema(value_type = super::values::BatchAction)]
    pub action: String,
    pub role_id: Option<i64>,
    #[schema(max_items = 100)]
    pub team_ids: Option<Vec<i64>>,
    #[schema(value_type = Option<super::values::ConversationAccess>)]
    pub conversation_access: Option<String>,
    #[schema(value_type = Option<super::values::BatchUserType>)]
    pub user_type: Option<String>,
    pub reassign_to: Option<i64>,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchInput {
    #[schema(min_items = 1, max_items = 1000)]
    pub user_ids: Vec<i64>,
    pub change: BatchChange,
    /// Answer what would happen, and change nothing.
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ItemError {
    /// `not_found`, `forbidden`, `unmanageable`, `refused` or `not_applicable`.
    pub code: String,
    pub message: String,
}

#[derive(Serialize, ToSchema)]
pub struct BatchItem {
    pub user_id: i64,
    /// `changed`, `unchanged` (already so) or `refused`.
    pub status: String,
    pub error: Option<ItemError>,
}

#[derive(Serialize, ToSchema)]
pub struct BatchOutput {
    pub dry_run: bool,
    pub changed: usize,
    pub unchanged: usize,
    pub refused: usize,
    pub results: Vec<BatchItem>,
}

/// The change a body describes, or a 422 naming what is missing or not a
/// value the field takes (whether or not the action uses it).
fn change_of(input: &BatchChange) -> ApiResult<Change> {
    let need = |field: &'static str| ApiError::invalid(vec![(field, "is required".into())]);
    let mut wrong = Vec::new();
    if input
        .conversation_access
        .as_deref()
        .is_some_and(|a| ConversationAccess::parse(a).is_none())
    {
        wrong.push(("conversation_access", "must be all or teams".into()));
    }
    if input.user_type.as_deref().is_some_and(|t| {
        !matches!(
            UserType::parse(t),
            Some(UserType::FullTime | UserType::Collaborator)
        )
    }) {
        wrong.push(("user_type", "must be full_time or collaborator".into()));
    }
    if !wrong.is_empty() {
        return Err(ApiError::invalid(wrong));
    }
    Ok(match input.action.as_str() {
        "role" => Change::Role(input.role_id.ok_or_else(|| need("role_id"))?),
        "add_teams" | "remove_teams" => {
            let teams = input
                .team_ids
                .clone()
                .filter(|t| !t.is_empty())
                .ok_or_else(|| need("team_ids"))?;
            if input.action == "add_teams" {
                Change::AddTeams(teams)
            } else {
                Change::RemoveTeams(teams)
            }
        }
        "conversation_access" => Change::Access(
            input
                .conversation_access
                .as_deref()
                .and_then(ConversationAccess::parse)
                .ok_or_else(|| need("conversation_access"))?,
        ),
        "user_type" => Change::Type {
            user_type: input
                .user_type
                .as_deref()
                .and_then(UserType::parse)
                .filter(|t| *t != UserType::Seasonal)
                .ok_or_else(|| need("user_type"))?,
            role_id: input.role_id,
        },
        "resend_invitation" => Change::ResendInvitation,
        "revoke_invitation" => Change::RevokeInvitation,
        "deactivate" => Change::Deactivate {
            reassign_to: input.reassign_to,
        },
        _ => {
            return Err(ApiError::invalid(vec![(
                "action",
                "is not a change this endpoint makes".into(),
            )]));
        }
    })
}

fn error_of(refused: &Refused) -> ItemError {
    let (code, message) = match refused {
        Refused::NotFound => ("not_found", "No such user.".to_string()),
        Refused::Denied(_) => ("forbidden", "This token's user may not do this.".into()),
        Refused::Unmanageable(rule) => (
            "unmanageable",
            format!(
                "This token's user may not manage this user ({}).",
                rule.key()
            ),
        ),
        Refused::Refused(refusal) => (
            "refused",
            refusal.message(crate::i18n::Tr::new(crate::i18n::Lang::En)),
        ),
        Refused::NotApplicable { english, .. } => ("not_applicable", (*english).to_string()),
    };
    ItemError {
        code: code.into(),
        message,
    }
}

/// Changes many users at once: each user's result, refusals included (the
/// others still change, in one transaction).
#[utoipa::path(post, path = "/api/v1/users/batch", tag = "users", operation_id = "batch_users", request_body = BatchInput,
    responses((status = 200, body = BatchOutput)))]
pub async fn batch(
    api: ApiUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<BatchInput>,
) -> ApiResult<HttpResponse> {
    api.ensure(Action::Use(Flag::UsersManage))?;
    let input = body.into_inner();
    if input.user_ids.is_empty() || input.user_ids.len() > user_batch::MAX_USERS {
        return Err(ApiError::invalid(vec![(
            "user_ids",
            "must name 1 to 1000 users".into(),
        )]));
    }
    let change = change_of(&input.change)?;
    let who = api.caller(&state, &req);
    let dry_run = input.dry_run;
    let items = super::db(&state, move |conn| {
        let by = who.by();
        let batch = Batch {
            by: &by,
            org: &who.org,
            public_url: &who.config.public_url,
            now: who.now,
        };
        Ok(if dry_run {
            user_batch::preview(conn, &batch, &input.user_ids, &change)?
        } else {
            crate::db::write_transaction(conn, |conn| {
                user_batch::apply(conn, &batch, &input.user_ids, &change)
            })?
        })
    })
    .await?;
    let results: Vec<BatchItem> = items
        .iter()
        .map(|item| {
            let (status, error) = match &item.result {
                ItemResult::Changed => ("changed", None),
                ItemResult::Unchanged => ("unchanged", None),
                ItemResult::Refused(refused) => ("refused", Some(error_of(refused))),
            };
            BatchItem {
                user_id: item.user_id,
                status: status.into(),
                error,
            }
        })
        .collect();
    let count = |status: &str| results.iter().filter(|r| r.status == status).count();
    Ok(HttpResponse::Ok().json(BatchOutput {
        dry_run,
        changed: count("changed"),
        unchanged: count("unchanged"),
        refused: count("refused"),
        results,
    }))
}
