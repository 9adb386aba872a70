//! Saved replies: the same visibility (personal, the reader's teams', only
//! kinds they may use) and rules as `/saved-replies`; with
//! `conversation_id`, each comes with its placeholders filled in.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::idempotency::{self, Created};
use super::{ApiError, ApiResult, ApiUser, time};
use crate::models::conversation::{self, Reader};
use crate::models::customer;
use crate::models::saved_reply::{self, Listed};
use crate::policy;
use crate::services::saved_replies::{self, Placeholders, SnippetInput};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct SavedReplyOut {
    pub id: i64,
    pub title: String,
    /// Markdown with placeholders such as `{customer.first_name}`.
    pub body: String,
    /// `reply` or `note`.
    pub kind: String,
    /// A team's shared reply; none for a personal one.
    pub team_id: Option<i64>,
    /// The body for the conversation asked about (`conversation_id`).
    pub filled: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct SavedReplyPage {
    pub data: Vec<SavedReplyOut>,
}

fn shape(l: Listed, filled: Option<&Placeholders>) -> SavedReplyOut {
    let r = l.reply;
    SavedReplyOut {
        filled: filled.map(|p| saved_replies::fill(&r.body, p)),
        id: r.id,
        title: r.title,
        body: r.body,
        kind: r.kind,
        team_id: r.team_id,
        created_at: time(r.created_at),
        updated_at: time(r.updated_at),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SavedReplyQuery {
    /// Fill the placeholders in for this conversation (one the token's
    /// user can see).
    pub conversation_id: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/saved-replies", tag = "saved replies",
    params(SavedReplyQuery), responses((status = 200, body = SavedReplyPage),
        (status = 404, description = "`conversation_id` names no conversation the token's user can see.")))]
pub async fn list(
    api: ApiUser,
    state: web::Data<AppState>,
    query: web::Query<SavedReplyQuery>,
) -> ApiResult<HttpResponse> {
    let scope = policy::snippet_scope(&api.actor);
    let conversation_scope = policy::conversation_scope(&api.actor).0;
    let (user_id, team_ids, agent) = (
        api.user.id,
        api.actor.team_ids.clone(),
        api.user.name.clone(),
    );
    let conversation_id = query.conversation_id;
    let page = super::db(&state, move |conn| {
        let customer_name = match conversation_id {
            Some(id) => {
                let reader = Reader {
                    scope: &conversation_scope,
                    user_id,
                    team_ids: &team_ids,
                };
                let c = conversation::find_visible(conn, &reader, id)?
                    .ok_or_else(ApiError::not_found)?;
                let customer =
                    customer::find(conn, c.customer_id)?.ok_or_else(ApiError::not_found)?;
                Some((customer.name, id))
            }
            None => None,
        };
        let placeholders = customer_name.as_ref().map(|(name, id)| Placeholders {
            customer_name: name,
            agent_name: &agent,
            conversation_id: *id,
        });
        let data = saved_reply::visible(conn, &scope)?
            .into_iter()
            .map(|l| shape(l, placeholders.as_ref()))
            .collect();
        Ok(SavedReplyPage { data })
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

fn find(
    conn: &mut crate::db::DbConn,
    api_scope: &policy::SnippetScope,
    id: i64,
) -> ApiResult<SavedReplyOut> {
    let reply = saved_reply::find_visible(conn, api_scope, id)?.ok_or_else(ApiError::not_found)?;
    Ok(shape(
        Listed {
            reply,
            team_name: None,
        },
        None,
    ))
}

#[utoipa::path(get, path = "/api/v1/saved-replies/{id}", tag = "saved replies",
    params(("id" = i64, Path)), responses((status = 200, body = SavedReplyOut)))]
pub async fn show(
    api: ApiUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let (scope, id) = (policy::snippet_scope(&api.actor), *id);
    let found = super::db(&state, move |conn| find(conn, &scope, id)).await?;
    Ok(HttpResponse::Ok().json(found))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSavedReply {
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = "[^\\t\\n\\u000b\\f\\r \\u0000\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub title: String,
    #[schema(
        min_length = 1,
        max_length = 20000,
        pattern = "[^\\t\\n\\u000b\\f\\r \\u0000\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub body: String,
    /// `reply` or `note`.
    #[schema(value_type = super::values::SnippetKind)]
    pub kind: String,
    /// Share with this team (needs the permission to manage teams); none
    /// for a personal reply.
    pub team_id: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/saved-replies", tag = "saved replies",
    request_body = NewSavedReply,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[!-~]([ -~]{0,253}[!-~])?$", description = "Retries with the same key and body get the first response")),
    responses((status = 201, body = SavedReplyOut, headers(("Location" = String)))))]
pub async fn create(
    api: ApiUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<NewSavedReply>,
) -> ApiResult<HttpResponse> {
    let input = body.into_inner();
    let (w, scope) = (api.caller(&state, &req), policy::snippet_scope(&api.actor));
    let request = serde_json::to_value(&input)?;
    idempotency::run(&state, &api, &req, &request, move |conn| {
        let snippet = SnippetInput {
            title: &input.title,
            body: &input.body,
            kind: &input.kind,
            team_id: input.team_id,
        };
        let created = saved_replies::create(conn, &w.by(), &snippet, w.now)?;
        Ok(Created::new(
            find(conn, &scope, created.id)?,
            format!("/api/v1/saved-replies/{}", created.id),
        ))
    })
    .await
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SavedReplyChanges {
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = "[^\\t\\n\\u000b\\f\\r \\u0000\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub title: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 20000,
        pattern = "[^\\t\\n\\u000b\\f\\r \\u0000\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub body: Option<String>,
    #[schema(value_type = Option<super::values::SnippetKind>)]
    pub kind: Option<String>,
}

#[utoipa::path(patch, path = "/api/v1/saved-replies/{id}", tag = "saved replies",
    params(("id" = i64, Path)), request_body = SavedReplyChanges,
    responses((status = 200, body = SavedReplyOut)))]
pub async fn update(
    api: ApiUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Json<SavedReplyChanges>,
) -> ApiResult<HttpResponse> {
    let changes = body.into_inner();
    let (w, scope, id) = (
        api.caller(&state, &req),
        policy::snippet_scope(&api.actor),
        *id,
    );
    let result = super::db(&state, move |conn| {
        crate::db::write_transaction(conn, |conn| {
            let stored =
                saved_reply::find_visible(conn, &scope, id)?.ok_or_else(ApiError::not_found)?;
            let snippet = SnippetInput {
                title: changes.title.as_deref().unwrap_or(&stored.title),
                body: changes.body.as_deref().unwrap_or(&stored.body),
                kind: changes.kind.as_deref().unwrap_or(&stored.kind),
                team_id: stored.team_id,
            };
            saved_replies::update(conn, &w.by(), id, &snippet, w.now)?;
            find(conn, &scope, id)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(result))
}

#[utoipa::path(delete, path = "/api/v1/saved-replies/{id}", tag = "saved replies",
    params(("id" = i64, Path)), responses((status = 204)))]
pub async fn delete(
    api: ApiUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let (w, id) = (api.caller(&state, &req), *id);
    super::db(&state, move |conn| {
        crate::db::write_transaction(conn, |conn| {
            Ok::<_, ApiError>(saved_replies::delete(conn, &w.by(), id, w.now)?)
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
