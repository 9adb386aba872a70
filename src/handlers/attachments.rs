//! Downloading a file of a conversation: the same visibility as the
//! conversation (404 otherwise), always as a download of the type its bytes
//! showed, never rendered as a page.

use actix_web::{HttpResponse, web};

use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::models::attachment;
use crate::models::conversation::{self, Reader};
use crate::policy;
use crate::state::AppState;

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
    Ok(crate::web::file_download(file))
}
