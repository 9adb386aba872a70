//! Live updates of an open conversation, as server-sent events: the stream
//! polls the database once a second — so a message written through any
//! node, by mail or the API, is seen — and says when there is a newer
//! message (`messages`, its id as the event id, so a reconnecting browser
//! resumes with `Last-Event-ID`) and who else has the conversation open or
//! is writing a reply (`presence`). Holding the stream open is what marks
//! its reader as viewing. A stream ends after a few minutes (the browser
//! reconnects through the sign-in check again) or when the node drains.

use std::time::{Duration, Instant};

use actix_web::web::Bytes;

use super::*;
use crate::models::presence;

/// How often a stream looks for changes.
pub const POLL_EVERY: Duration = Duration::from_secs(1);
/// How long one stream lives before the browser reconnects.
const STREAM_FOR: Duration = Duration::from_secs(300);

async fn visible(current: &CurrentUser, state: &AppState, id: i64) -> AppResult<()> {
    let (scope, user_id, team_ids) = reader(current);
    state
        .db(move |conn| {
            let reader = Reader {
                scope: &scope,
                user_id,
                team_ids: &team_ids,
            };
            conversation::find_visible(conn, &reader, id)?.ok_or(AppError::NotFound)?;
            Ok(())
        })
        .await
}

struct Live {
    state: web::Data<AppState>,
    tr: crate::i18n::Tr,
    conversation_id: i64,
    me: i64,
    /// The newest message the browser knows of.
    newest: i64,
    presence: Option<String>,
    started: Instant,
    /// When this stream last marked its reader as viewing.
    touched: Option<Instant>,
    opened: bool,
}

/// How often a stream renews its reader's "viewing" (well within
/// `presence::VIEWING_FOR`): one small write per viewer every few seconds.
const TOUCH_EVERY: Duration = Duration::from_secs(5);

/// "Replying now: Bea · Viewing now: Alex", or nothing.
fn presence_text(tr: crate::i18n::Tr, others: &[(String, bool)]) -> String {
    let names = |replying: bool| {
        others
            .iter()
            .filter(|(_, r)| *r == replying)
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut parts = Vec::new();
    let (replying, viewing) = (names(true), names(false));
    if !replying.is_empty() {
        parts.push(tr.fmt("presence.replying", &[("names", &replying)]));
    }
    if !viewing.is_empty() {
        parts.push(tr.fmt("presence.viewing", &[("names", &viewing)]));
    }
    parts.join(" · ")
}

async fn next_event(mut live: Live) -> Option<(Result<Bytes, actix_web::Error>, Live)> {
    if !live.opened {
        live.opened = true;
        return Some((Ok(Bytes::from_static(b"retry: 3000\n\n")), live));
    }
    if live.started.elapsed() > STREAM_FOR || live.state.is_draining() {
        return None;
    }
    actix_web::rt::time::sleep(POLL_EVERY).await;
    let (id, me, now) = (live.conversation_id, live.me, live.state.clock.now());
    let touch = live.touched.is_none_or(|at| at.elapsed() >= TOUCH_EVERY);
    if touch {
        live.touched = Some(Instant::now());
    }
    let polled = live
        .state
        .db(move |conn| {
            if touch {
                presence::touch(conn, id, me, None, now)?;
            }
            Ok((
                presence::newest_message(conn, id)?,
                presence::others(conn, id, me, now)?,
            ))
        })
        .await;
    let Ok((newest, others)) = polled else {
        return None;
    };
    let mut out = String::new();
    if newest > live.newest {
        live.newest = newest;
        out.push_str(&format!(
            "id: {newest}\nevent: messages\ndata: {{\"newest\":{newest}}}\n\n"
        ));
    }
    let text = presence_text(live.tr, &others);
    if live.presence.as_deref() != Some(text.as_str()) {
        let data = serde_json::json!({ "text": text }).to_string();
        out.push_str(&format!("event: presence\ndata: {data}\n\n"));
        live.presence = Some(text);
    }
    if out.is_empty() {
        // A comment keeps proxies from closing an idle stream.
        out.push_str(": ping\n\n");
    }
    Some((Ok(Bytes::from(out)), live))
}

#[derive(Deserialize, Default)]
pub struct LiveQuery {
    /// The newest message the page shows.
    pub since: Option<i64>,
}

pub async fn live(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<LiveQuery>,
) -> AppResult<HttpResponse> {
    let id = *id;
    visible(&current, &state, id).await?;
    // A reconnecting browser says which message it saw last.
    let newest = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .or(query.since)
        .unwrap_or(0);
    let live = Live {
        state: state.clone(),
        tr: current.tr,
        conversation_id: id,
        me: current.user.id,
        newest,
        presence: None,
        started: Instant::now(),
        touched: None,
        opened: false,
    };
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(futures_util::stream::unfold(live, next_event)))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PresenceForm {
    /// `1` while writing a reply, `0` once done.
    pub replying: String,
}

/// The reply box reports that its reader is writing (or stopped).
pub async fn presence(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<PresenceForm>,
) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::ConversationsReply))?;
    let id = *id;
    visible(&current, &state, id).await?;
    let replying = form.replying == "1";
    let (me, now) = (current.user.id, state.clock.now());
    state
        .db(move |conn| Ok(presence::touch(conn, id, me, Some(replying), now)?))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
