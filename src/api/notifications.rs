//! The token's user's notifications.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::{ApiError, ApiResult, ApiUser, time};
use crate::models::notification;
use crate::models::task::TaskReader;
use crate::policy;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct NotificationOut {
    pub id: i64,
    /// `mention`, `assignment`, `reply`, `task_assigned`, `task_comment`, `task_due`, …
    pub kind: String,
    /// The page it is about, e.g. `/conversations/12` or `/tasks/3`.
    pub link: String,
    pub subject: String,
    pub actor_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct NotificationList {
    pub data: Vec<NotificationOut>,
    pub unread: i64,
}

/// The latest 100, about conversations and tasks still visible.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications",
    responses((status = 200, body = NotificationList)))]
pub async fn list(api: ApiUser, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let scope = policy::conversation_scope(&api.actor).0;
    let reader = TaskReader::for_actor(api.user.id, &api.actor);
    let user_id = api.user.id;
    let (lines, unread) = super::db(&state, move |conn| {
        Ok((
            notification::recent(conn, user_id, &scope, &reader, 100)?,
            notification::unread_count(conn, user_id, &scope, &reader)?,
        ))
    })
    .await?;
    Ok(HttpResponse::Ok().json(NotificationList {
        data: lines
            .into_iter()
            .map(|n| NotificationOut {
                id: n.id,
                kind: n.kind,
                link: n.link,
                subject: n.subject,
                actor_name: n.actor_name,
                created_at: time(n.created_at),
                read_at: n.read_at.map(time),
            })
            .collect(),
        unread,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct MarkedRead {
    pub id: i64,
    pub read: bool,
}

#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "notifications",
    params(("id" = i64, Path)), responses((status = 200, body = MarkedRead)))]
pub async fn mark_read(
    api: ApiUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let (user_id, id, now) = (api.user.id, *id, state.clock.now());
    let found = super::db(&state, move |conn| {
        Ok(notification::mark_own_read(conn, user_id, id, now)?)
    })
    .await?;
    if !found {
        return Err(ApiError::not_found());
    }
    Ok(HttpResponse::Ok().json(MarkedRead { id, read: true }))
}
