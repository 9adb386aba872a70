//! A conversation's thread rendered as HTML, once per version of it and
//! reader's language and timezone (`kept::ThreadCache` holds it).

use std::sync::Arc;

use super::*;
use crate::kept::{Thread, ThreadCache, ThreadKey};
use crate::models::conversation::{MessageKind, MessageLine};

pub struct TimelineEntry {
    pub id: i64,
    /// A reply's email that failed or keeps failing, in words.
    pub delivery_problem: Option<String>,
    pub kind: &'static str,
    pub author: Badge,
    pub when: String,
    /// Markdown written in Confer, rendered and sanitized.
    pub html: String,
    /// Email text, shown as written (escaped, line breaks kept).
    pub text: Option<String>,
    /// The quoted history trimmed off an email.
    pub quoted: Option<String>,
    pub files: Vec<FileLink>,
    pub label: &'static str,
}

/// A file on a message: a download link, and the picture for images.
pub struct FileLink {
    pub id: i64,
    pub name: String,
    pub size: String,
    pub image: bool,
}

/// "12 KB", "3.4 MB".
fn human_size(bytes: i64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{} KB", b / 1024),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

/// The `ctx` the thread's template asks for: its language alone.
struct ThreadCtx {
    t: crate::i18n::Tr,
}

#[derive(Template)]
#[template(source = "{% include \"partials/timeline.html\" %}", ext = "html")]
struct ThreadPart {
    ctx: ThreadCtx,
    timeline: Vec<TimelineEntry>,
}

/// Renders the thread from its messages and files (read at `key`'s
/// versions or later) and keeps it.
pub(super) fn render_and_keep(
    cache: &ThreadCache,
    key: ThreadKey,
    messages: Vec<MessageLine>,
    files: &[attachment::AttachmentInfo],
) -> AppResult<Arc<Thread>> {
    let t = crate::i18n::Tr::new(key.lang);
    let newest = messages.iter().map(|m| m.id).max().unwrap_or(0);
    // Authors repeat down a thread: each badge is made once.
    let mut badges: Vec<(Option<String>, Option<String>, Badge)> = Vec::new();
    let timeline = messages
        .into_iter()
        .map(|m| {
            let author = match badges
                .iter()
                .find(|(user, customer, _)| *user == m.user_name && *customer == m.customer_name)
            {
                Some((_, _, badge)) => badge.clone(),
                None => {
                    let badge = match (&m.user_name, &m.customer_name) {
                        (Some(name), _) => Badge::for_user(name, m.user_type),
                        (None, Some(name)) => Badge::for_user(name, None),
                        (None, None) => Badge::for_user("?", None),
                    };
                    badges.push((m.user_name.clone(), m.customer_name.clone(), badge.clone()));
                    badge
                }
            };
            let email = m.source == "email";
            TimelineEntry {
                id: m.id,
                kind: m.kind.key(),
                author,
                when: format_datetime(m.created_at, key.tz, t),
                html: if email {
                    String::new()
                } else {
                    crate::markdown::stored_or_render(m.body_html, &m.body)
                },
                files: files
                    .iter()
                    .filter(|f| f.message_id == Some(m.id))
                    .map(|f| FileLink {
                        id: f.id,
                        name: f.filename.clone(),
                        size: human_size(f.size_bytes),
                        image: f.is_image(),
                    })
                    .collect(),
                label: t.get(match m.kind {
                    MessageKind::Customer => "conversation.kind.customer",
                    MessageKind::Reply => "conversation.kind.reply",
                    MessageKind::Note => "conversation.kind.note",
                }),
                delivery_problem: match (m.delivery.as_deref(), m.delivery_error.as_deref()) {
                    (Some("failed"), error) => Some(t.fmt(
                        "conversation.undelivered",
                        &[("error", error.unwrap_or("?"))],
                    )),
                    (Some("failing"), error) => Some(t.fmt(
                        "conversation.delivery_pending",
                        &[("error", error.unwrap_or("?"))],
                    )),
                    _ => None,
                },
                text: email.then_some(m.body),
                quoted: m.quoted,
            }
        })
        .collect();
    let html = ThreadPart {
        ctx: ThreadCtx { t },
        timeline,
    }
    .render()?;
    let thread = Arc::new(Thread { html, newest });
    cache.keep(key, thread.clone());
    Ok(thread)
}
