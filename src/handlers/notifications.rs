//! The notifications page: mentions and assignments, newest first, with
//! mark-as-read. Only conversations the reader can still see appear.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::models::notification;
use crate::pages::{Ctx, format_datetime, html_with_status};
use crate::policy;
use crate::state::AppState;

pub struct Row {
    pub id: i64,
    pub text: String,
    pub link: String,
    pub when: String,
    pub unread: bool,
}

#[derive(Template)]
#[template(path = "pages/notifications.html")]
struct NotificationsPage {
    ctx: Ctx,
    rows: Vec<Row>,
}

pub async fn list(current: CurrentUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let (scope, _) = policy::conversation_scope(&current.actor);
    let user_id = current.user.id;
    let reader = crate::models::task::TaskReader::for_actor(user_id, &current.actor);
    let lines = state
        .db(move |conn| Ok(notification::recent(conn, user_id, &scope, &reader, 200)?))
        .await?;
    let t = current.tr;
    let rows = lines
        .into_iter()
        .map(|n| Row {
            id: n.id,
            text: t.fmt(
                &format!("notifications.{}", n.kind),
                &[
                    ("actor", n.actor_name.as_deref().unwrap_or("?")),
                    ("subject", &n.subject),
                ],
            ),
            link: n.link,
            when: format_datetime(n.created_at, current.tz, current.tr),
            unread: n.read_at.is_none(),
        })
        .collect();
    html_with_status(
        &NotificationsPage {
            ctx: Ctx::for_user(&current, "notifications"),
            rows,
        },
        StatusCode::OK,
    )
}

pub async fn mark_read(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let (user_id, id, now) = (current.user.id, *id, state.clock.now());
    let found = state
        .db(move |conn| Ok(notification::mark_own_read(conn, user_id, id, now)?))
        .await?;
    if !found {
        return Err(AppError::NotFound);
    }
    Ok(crate::web::redirect("/notifications"))
}

pub async fn mark_all_read(
    current: CurrentUser,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let (user_id, now) = (current.user.id, state.clock.now());
    state
        .db(move |conn| Ok(notification::mark_read(conn, user_id, None, None, now)?))
        .await?;
    Ok(crate::web::redirect("/notifications"))
}
