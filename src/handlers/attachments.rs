//! Downloading a file of a conversation: the same visibility as the
//! conversation (404 otherwise), always as a download of the type its bytes
//! showed, never rendered as a page.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};

use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::models::attachment;
use crate::models::conversation::{self, Reader};
use crate::policy;

pub async fn download(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let (scope, _) = policy::conversation_scope(&current.actor);
    let (user_id, team_ids) = (current.user.id, current.actor.team_ids.clone());
    let id = *id;
    let file = state
        .db(move |conn| {
            let file = attachment::find(conn, id)?.ok_or(AppError::NotFound)?;
            let reader = Reader {
                scope: &scope,
                user_id,
                team_ids: &team_ids,
            };
            conversation::find_visible(conn, &reader, file.conversation_id)?
                .ok_or(AppError::NotFound)?;
            Ok(file)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type(file.content_type.as_str())
        .insert_header((
            header::CONTENT_DISPOSITION,
            content_disposition(&file.filename),
        ))
        .insert_header((header::CACHE_CONTROL, "private, max-age=3600"))
        // Even if a browser were to render it, nothing in it may run.
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; sandbox",
        ))
        .body(file.data))
}

/// `attachment; filename="plain"; filename*=UTF-8''encoded` (RFC 6266).
fn content_disposition(name: &str) -> HeaderValue {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let value = format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        crate::web::url_encode(name)
    );
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("attachment"))
}
