//! Trash and Spam from the conversation page: moving there and back goes
//! through `services::conversations::move_to`, which asks the policy (the
//! archive permission; never collaborators).

use super::*;
use crate::models::conversation::Folder;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MoveForm {
    /// `trash`, `spam` or `inbox` (back to the workspace).
    pub to: String,
}

/// Where a form's `to` sends conversations: `Some(None)` is back to the
/// workspace, `None` nowhere known.
pub(super) fn destination(to: &str) -> Option<Option<Folder>> {
    match to {
        "inbox" => Some(None),
        other => Folder::parse(other).map(Some),
    }
}

pub async fn move_conversation(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<MoveForm>,
) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::ConversationsArchive))?;
    let id = *id;
    let Some(folder) = destination(&form.to) else {
        return Ok(redirect(&format!("/conversations/{id}")));
    };
    let who = current.caller(&state, &req);
    state
        .db(move |conn| {
            write_transaction(conn, |conn| {
                conversations::visible(conn, &who.actor, id)?;
                conversations::move_to(conn, &who.ctx(), &who.by(), &[id], folder)
            })?;
            Ok(())
        })
        .await?;
    let notice = match folder {
        Some(Folder::Trash) => "trashed",
        Some(Folder::Spam) => "spam",
        None => "restored",
    };
    Ok(redirect(&format!("/conversations/{id}?notice={notice}")))
}

/// What the page says about a conversation in Trash or Spam: since when,
/// and when the worker deletes it.
pub(super) fn folder_note(c: &Conversation, current: &CurrentUser) -> Option<String> {
    let (folder, moved) = (c.folder?, c.moved_at?);
    let t = current.tr;
    let day = |at: NaiveDateTime| crate::pages::format_local_date(at, current.tz, t);
    let purge = moved + chrono::Duration::days(conversation::PURGE_AFTER_DAYS);
    let key = match folder {
        Folder::Trash => "conversation.in_trash",
        Folder::Spam => "conversation.in_spam",
    };
    Some(t.fmt(key, &[("since", &day(moved)), ("purge", &day(purge))]))
}
