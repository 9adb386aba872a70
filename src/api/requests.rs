//! Requests (questions asked in notes): list and read those of
//! conversations the token's user can see; ask, answer, decline and
//! withdraw through `services::requests`, the same rules as the browser.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::idempotency::{self, Created};
use super::{ApiError, ApiResult, ApiUser, cursor, page_limit, time};
use crate::db::DbConn;
use crate::models::request::{self, State, Which};
use crate::policy::{self, Action, Flag};
use crate::services::{messages, requests};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct RequestOut {
    pub id: i64,
    pub conversation_id: i64,
    pub subject: String,
    /// The note that asks.
    pub question_message_id: i64,
    pub question: String,
    /// Null when the asker's account was deleted.
    pub asked_by: Option<i64>,
    pub asked_by_name: Option<String>,
    pub asked_of: i64,
    pub asked_of_name: String,
    #[schema(value_type = super::values::RequestState)]
    pub state: State,
    pub overdue: bool,
    pub due_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// When it was answered, declined or withdrawn.
    pub closed_at: Option<DateTime<Utc>>,
    pub answer_message_id: Option<i64>,
    pub decline_reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RequestPage {
    pub data: Vec<RequestOut>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

fn out(shown: request::Shown, now: chrono::NaiveDateTime) -> RequestOut {
    let r = shown.request;
    RequestOut {
        overdue: r.overdue(now),
        id: r.id,
        conversation_id: r.conversation_id,
        subject: shown.subject,
        question_message_id: r.question_message_id,
        question: shown.question,
        asked_by: r.asked_by,
        asked_by_name: shown.asked_by_name,
        asked_of: r.asked_of,
        asked_of_name: shown.asked_of_name,
        state: r.state,
        due_at: r.due_at.map(time),
        created_at: time(r.created_at),
        closed_at: r.closed_at.map(time),
        answer_message_id: r.answer_message_id,
        decline_reason: r.decline_reason,
    }
}

/// One request as the token's user sees it.
fn find(
    conn: &mut DbConn,
    scope: &policy::ConversationScope,
    id: i64,
    now: chrono::NaiveDateTime,
) -> ApiResult<RequestOut> {
    let shown = request::find_visible(conn, scope, id)?.ok_or_else(ApiError::not_found)?;
    Ok(out(shown, now))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequestQuery {
    /// `open`, `answered`, `declined` or `withdrawn`.
    #[param(inline, value_type = Option<super::values::RequestState>)]
    pub state: Option<String>,
    /// Only open requests past their due time.
    pub overdue: Option<bool>,
    /// A user id, or `me`.
    #[param(pattern = "^(me|[1-9][0-9]{0,17})$")]
    pub asked_of: Option<String>,
    /// A user id, or `me`.
    #[param(pattern = "^(me|[1-9][0-9]{0,17})$")]
    pub asked_by: Option<String>,
    pub conversation_id: Option<i64>,
    /// From `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1–100, default 50.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// A user id or `me`.
fn person(value: Option<&str>, me: i64, field: &'static str) -> ApiResult<Option<i64>> {
    match value.map(str::trim) {
        None => Ok(None),
        Some("me") => Ok(Some(me)),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|_| ApiError::invalid(vec![(field, "must be a user id or me".into())])),
    }
}

/// Requests of conversations the token's user can see, newest first.
#[utoipa::path(get, path = "/api/v1/requests", tag = "requests", operation_id = "list_requests", params(RequestQuery),
    responses((status = 200, body = RequestPage)))]
pub async fn list(
    api: ApiUser,
    state: web::Data<AppState>,
    query: web::Query<RequestQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let scope = policy::conversation_scope(&api.actor).0;
    if scope == policy::ConversationScope::None {
        return Err(ApiError::forbidden("This token's user may not do this."));
    }
    let limit = page_limit(q.limit)?;
    let state_filter = match q.state.as_deref() {
        None => None,
        Some(key) => Some(State::parse(key).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_state",
                "`state` must be open, answered, declined or withdrawn.",
            )
        })?),
    };
    let now = state.clock.now();
    let me = api.user.id;
    let which = Which {
        state: state_filter,
        overdue_at: q.overdue.filter(|&o| o).map(|_| now),
        asked_of: person(q.asked_of.as_deref(), me, "asked_of")?,
        asked_by: person(q.asked_by.as_deref(), me, "asked_by")?,
        conversation_id: q.conversation_id,
        before_id: cursor::decode(q.cursor.as_deref())?,
        ..Which::default()
    };
    let page = super::db(&state, move |conn| {
        let mut shown = request::list(conn, &scope, &which, limit + 1)?;
        let more = shown.len() as i64 > limit;
        shown.truncate(limit as usize);
        let next_cursor = more
            .then(|| shown.last().map(|s| cursor::encode(&s.request.id)))
            .flatten();
        Ok(RequestPage {
            data: shown.into_iter().map(|s| out(s, now)).collect(),
            next_cursor,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

#[utoipa::path(get, path = "/api/v1/requests/{id}", tag = "requests", operation_id = "show_request",
    params(("id" = i64, Path)), responses((status = 200, body = RequestOut)))]
pub async fn show(
    api: ApiUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let (scope, id, now) = (
        policy::conversation_scope(&api.actor).0,
        *id,
        state.clock.now(),
    );
    let found = super::db(&state, move |conn| find(conn, &scope, id, now)).await?;
    Ok(HttpResponse::Ok().json(found))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    /// An active user who can see the conversation (not yourself).
    pub asked_of: i64,
    /// The question, written as a private note.
    #[schema(
        min_length = 1,
        max_length = 50000,
        pattern = "[^\\t\\n\\u000b\\f\\r \\u0000\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub question: String,
    /// When the answer is wanted (in the future).
    pub due_at: Option<DateTime<Utc>>,
}

/// Asks someone a question: a private note in the conversation, and a
/// request they are told of.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/requests", tag = "requests", operation_id = "create_request",
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[!-~]([ -~]{0,253}[!-~])?$", description = "Retries with the same key and body get the first response")),
    request_body = NewRequest,
    responses((status = 201, body = RequestOut, headers(("Location" = String)))))]
pub async fn create(
    api: ApiUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Json<NewRequest>,
) -> ApiResult<HttpResponse> {
    api.ensure(Action::Use(Flag::ConversationsNote))?;
    let input = body.into_inner();
    let (who, conversation_id) = (api.caller(&state, &req), *id);
    let scope = policy::conversation_scope(&api.actor).0;
    let request = serde_json::to_value(&input)?;
    idempotency::run(&state, &api, &req, &request, move |conn| {
        let written = messages::Written {
            asking: requests::Asking {
                people: vec![input.asked_of],
                due_at: input.due_at.map(|at| at.naive_utc()),
                mentioned: false,
            },
            answers: requests::Answers::Only(Vec::new()),
            ..messages::Written::typed(input.question.trim(), &[])
        };
        let added = messages::add_note(conn, &who.ctx(), &who.author(), conversation_id, &written)?;
        let made = added
            .requests
            .first()
            .copied()
            .ok_or_else(ApiError::not_found)?;
        Ok(Created::new(
            find(conn, &scope, made, who.now)?,
            format!("/api/v1/requests/{made}"),
        ))
    })
    .await
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    /// The answer, written as your private note; or give `message_id`.
    #[schema(
        min_length = 1,
        max_length = 50000,
        pattern = "[^\\t\\n\\u000b\\f\\r \\u0000\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub body: Option<String>,
    /// One of your notes in the conversation, written after the question,
    /// to make the answer.
    pub message_id: Option<i64>,
}

/// Answers a request asked of you (with a new note, or one you wrote).
#[utoipa::path(post, path = "/api/v1/requests/{id}/answer", tag = "requests", operation_id = "answer_request",
    params(("id" = i64, Path)), request_body = Answer,
    responses((status = 200, body = RequestOut)))]
pub async fn answer(
    api: ApiUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Json<Answer>,
) -> ApiResult<HttpResponse> {
    let input = body.into_inner();
    if input.body.is_some() == input.message_id.is_some() {
        return Err(ApiError::invalid(vec![(
            "body",
            "give either body or message_id".into(),
        )]));
    }
    let (who, id) = (api.caller(&state, &req), *id);
    let scope = policy::conversation_scope(&api.actor).0;
    let result = super::db(&state, move |conn| {
        crate::db::write_transaction(conn, |conn| {
            let (ctx, author) = (who.ctx(), who.author());
            match (&input.body, input.message_id) {
                (Some(text), _) => {
                    let written = messages::Written::typed(text.trim(), &[]);
                    requests::answer(conn, &ctx, &author, id, &written).map(|_| ())?;
                }
                (None, Some(message_id)) => {
                    requests::pick_answer(conn, &ctx, &author, id, message_id)?;
                }
                (None, None) => {}
            }
            find(conn, &scope, id, who.now)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(result))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decline {
    /// Why you cannot answer; the asker is told.
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = "[^\\t\\n\\u000b\\f\\r \\u0000\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub reason: String,
}

/// Declines a request asked of you, with a reason.
#[utoipa::path(post, path = "/api/v1/requests/{id}/decline", tag = "requests", operation_id = "decline_request",
    params(("id" = i64, Path)), request_body = Decline,
    responses((status = 200, body = RequestOut)))]
pub async fn decline(
    api: ApiUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Json<Decline>,
) -> ApiResult<HttpResponse> {
    let input = body.into_inner();
    let (who, id) = (api.caller(&state, &req), *id);
    let scope = policy::conversation_scope(&api.actor).0;
    let result = super::db(&state, move |conn| {
        crate::db::write_transaction(conn, |conn| {
            requests::decline(conn, &who.ctx(), &who.author(), id, &input.reason)?;
            find(conn, &scope, id, who.now)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Withdraws a request you asked (or, with the permission to update
/// conversations, anyone's).
#[utoipa::path(post, path = "/api/v1/requests/{id}/withdraw", tag = "requests", operation_id = "withdraw_request",
    params(("id" = i64, Path)), responses((status = 200, body = RequestOut)))]
pub async fn withdraw(
    api: ApiUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let (who, id) = (api.caller(&state, &req), *id);
    let scope = policy::conversation_scope(&api.actor).0;
    let result = super::db(&state, move |conn| {
        crate::db::write_transaction(conn, |conn| {
            requests::withdraw(conn, &who.ctx(), &who.author(), id)?;
            find(conn, &scope, id, who.now)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(result))
}
