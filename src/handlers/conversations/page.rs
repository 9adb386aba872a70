//! The conversation page: one timeline of customer messages, replies and notes, the customer summary and the property form; collaborators get the minimal page with nothing else in its HTML.

use super::*;
use crate::kept::{Thread, ThreadKey};

pub struct CustomerSummary {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub phone: String,
}

/// A saved reply the composer offers, its placeholders filled in for this
/// conversation.
pub struct SavedChoice {
    pub id: i64,
    pub title: String,
    /// `reply` or `note`: which composer it goes into.
    pub kind: &'static str,
    pub label: String,
    pub body: String,
}

/// The saved replies as the composer offers them, filled in.
pub(super) fn saved_choices(
    listed: &[crate::models::saved_reply::Listed],
    placeholders: &crate::services::saved_replies::Placeholders,
    t: crate::i18n::Tr,
) -> Vec<SavedChoice> {
    listed
        .iter()
        .map(|l| {
            let kind = if l.reply.kind == "reply" {
                "reply"
            } else {
                "note"
            };
            SavedChoice {
                id: l.reply.id,
                title: l.reply.title.clone(),
                kind,
                label: format!(
                    "{} · {}",
                    t.get(&format!("saved.kind.{kind}")),
                    l.team_name
                        .as_deref()
                        .unwrap_or_else(|| t.get("saved.personal"))
                ),
                body: crate::services::saved_replies::fill(&l.reply.body, placeholders),
            }
        })
        .collect()
}

/// What the property form offers and shows.
pub struct PropertyForm {
    pub status: String,
    pub snoozed_until: String,
    pub priority: String,
    pub assignee: String,
    pub team: String,
    pub tags: String,
}

pub(super) struct Loaded {
    pub(super) conversation: Conversation,
    pub(super) thread: std::sync::Arc<Thread>,
    pub(super) customer: customer::Customer,
    pub(super) tags: Vec<String>,
    pub(super) pickers: std::sync::Arc<crate::kept::Pickers>,
    pub(super) tasks: (Vec<crate::handlers::tasks::TaskRow>, Option<String>),
    /// Loaded only when asked for (`?saved=1`, `?insert=`): the composer's
    /// script fetches them when the picker is opened.
    pub(super) saved: Option<Vec<crate::models::saved_reply::Listed>>,
    /// The last activity the reader saw here before this page.
    pub(super) seen_activity_at: Option<NaiveDateTime>,
    /// Grants in force that open it, as sentences.
    pub(super) grants: Vec<crate::models::grant::Shown>,
    /// The questions asked in it.
    pub(super) requests: super::requests::OnPage,
    /// When it was read (what is overdue).
    pub(super) now: NaiveDateTime,
}

pub(super) async fn load(current: &CurrentUser, state: &AppState, id: i64) -> AppResult<Loaded> {
    let (scope, user_id, team_ids) = reader(current);
    let sees_tasks = allowed(current, Flag::TasksView);
    let which = crate::models::task::TaskList::Conversation(id);
    let (pickers, threads) = (state.pickers.clone(), state.threads.clone());
    let directory_version = current.org.directory_version;
    let (lang, tz) = (current.tr.lang, current.tz);
    let (head, kept, pickers, task_lines, grants, requests) = state
        .db(move |conn| {
            let reader = Reader {
                scope: &scope,
                user_id,
                team_ids: &team_ids,
            };
            // Not visible and not existing look the same: 404.
            let head = conversation::page_head(conn, &reader, id)?.ok_or(AppError::NotFound)?;
            let key = ThreadKey {
                conversation_id: id,
                timeline_version: head.conversation.timeline_version,
                directory_version,
                lang,
                tz,
            };
            // A thread this node rendered at these versions is the same
            // thread: its messages and files are not read again.
            let kept = match threads.get(&key) {
                Some(thread) => Ok(thread),
                None => {
                    let files = if head.has_files {
                        attachment::of_conversation(conn, id)?
                    } else {
                        Vec::new()
                    };
                    Err((key, conversation::messages(conn, id)?, files))
                }
            };
            let task_lines = if sees_tasks && head.has_tasks {
                crate::models::task::of_visible_conversation(conn, &head.conversation, 50)?
            } else {
                Vec::new()
            };
            let grants = if head.has_grants {
                let c = &head.conversation;
                crate::models::grant::in_force_for(conn, c.id, c.customer_id)?
            } else {
                Vec::new()
            };
            let requests = if head.has_requests {
                super::requests::on_page(conn, user_id, id)?
            } else {
                Default::default()
            };
            Ok((
                head,
                kept,
                pickers.get(conn, directory_version)?,
                task_lines,
                grants,
                requests,
            ))
        })
        .await?;
    let thread = match kept {
        Ok(thread) => thread,
        Err((key, messages, files)) => render_and_keep(&state.threads, key, messages, &files)?,
    };
    let loaded = Loaded {
        thread,
        tags: head.tags,
        pickers,
        tasks: crate::handlers::tasks::panel(current, state, which, task_lines),
        saved: None,
        seen_activity_at: head.seen_activity_at,
        conversation: head.conversation,
        customer: head.customer,
        grants,
        requests,
        now: state.clock.now(),
    };
    Ok(loaded)
}

#[derive(Template)]
#[template(path = "pages/conversation.html")]
pub(super) struct ConversationPage {
    pub(super) ctx: Ctx,
    pub(super) id: i64,
    pub(super) subject: String,
    pub(super) status: &'static str,
    pub(super) thread: std::sync::Arc<Thread>,
    pub(super) customer: CustomerSummary,
    pub(super) tags: Vec<String>,
    pub(super) can_reply: bool,
    pub(super) can_update: bool,
    pub(super) can_assign: bool,
    pub(super) props: PropertyForm,
    pub(super) pickers: std::sync::Arc<crate::kept::Pickers>,
    pub(super) statuses: Vec<(&'static str, &'static str)>,
    pub(super) priorities: Vec<(&'static str, &'static str)>,
    pub(super) reply: String,
    pub(super) note: String,
    pub(super) warning: Option<String>,
    pub(super) errors: FieldErrors,
    pub(super) notice: Option<&'static str>,
    pub(super) task_rows: Vec<crate::handlers::tasks::TaskRow>,
    pub(super) new_task_link: Option<String>,
    /// The reader's id: "a" assigns the conversation to them.
    pub(super) me: i64,
    pub(super) saved: Option<Vec<SavedChoice>>,
    /// The newest message shown: live updates start after it, and a reply
    /// says it had seen up to it.
    pub(super) newest: i64,
    /// In Trash or Spam: since when, and when it goes for good.
    pub(super) folder_note: Option<String>,
    /// May move it to Trash or Spam and back.
    pub(super) can_move: bool,
    /// `trash`, `spam`, or empty in the workspace.
    pub(super) folder: &'static str,
    /// "Dana can see this until …, granted by Alex."
    pub(super) grant_lines: Vec<String>,
    /// May see who sees it, and grant or revoke collaborators' access.
    pub(super) can_see_audience: bool,
    /// May invite someone new into it from the note composer.
    pub(super) can_invite: bool,
    /// Open questions and those closed lately (at the top), and older ones.
    pub(super) shown_requests: Vec<super::requests::RequestLine>,
    pub(super) earlier_requests: Vec<super::requests::RequestLine>,
    /// The reader's open questions here: the note composer's "This note
    /// answers" boxes.
    pub(super) answering: Vec<(i64, String)>,
    /// The note composer's "Ask" box and due time, as typed.
    pub(super) ask_mentioned: bool,
    pub(super) ask_due: String,
}

fn grant_lines(grants: &[crate::models::grant::Shown], current: &CurrentUser) -> Vec<String> {
    grants
        .iter()
        .map(|g| super::grant_line(g, current, current.tr))
        .collect()
}

impl ConversationPage {
    fn is(&self, value: &str, option: &str) -> bool {
        value == option
    }

    fn is_id(&self, value: &str, id: &i64) -> bool {
        value == id.to_string()
    }
}

/// The collaborator's minimal page: no reply, no properties.
#[derive(Template)]
#[template(path = "pages/conversation_collaborator.html")]
pub(super) struct CollaboratorConversationPage {
    pub(super) ctx: Ctx,
    pub(super) id: i64,
    pub(super) subject: String,
    pub(super) status: &'static str,
    pub(super) thread: std::sync::Arc<Thread>,
    pub(super) customer: CustomerSummary,
    pub(super) tags: Vec<String>,
    pub(super) note: String,
    pub(super) warning: Option<String>,
    pub(super) errors: FieldErrors,
    pub(super) notice: Option<&'static str>,
    pub(super) task_rows: Vec<crate::handlers::tasks::TaskRow>,
    pub(super) new_task_link: Option<String>,
    pub(super) saved: Option<Vec<SavedChoice>>,
    pub(super) newest: i64,
    /// In Trash or Spam: since when, and when it goes for good.
    pub(super) folder_note: Option<String>,
    /// "You can see this until …, granted by Alex." and the like.
    pub(super) grant_lines: Vec<String>,
    /// Always false: collaborators invite nobody.
    pub(super) can_invite: bool,
    /// Open questions and those closed lately (at the top), and older ones.
    pub(super) shown_requests: Vec<super::requests::RequestLine>,
    pub(super) earlier_requests: Vec<super::requests::RequestLine>,
    /// The reader's open questions here: the note composer's "This note
    /// answers" boxes.
    pub(super) answering: Vec<(i64, String)>,
    /// The note composer's "Ask" box and due time, as typed.
    pub(super) ask_mentioned: bool,
    pub(super) ask_due: String,
}

/// Text typed into a composer, kept when the page comes back with an error.
#[derive(Default)]
pub(super) struct Drafts {
    pub(super) reply: String,
    pub(super) note: String,
    pub(super) props: Option<PropertyForm>,
    /// Said above the thread (mentions that notified nobody).
    pub(super) warning: Option<String>,
    /// A saved reply to put into its composer (the link's fallback
    /// without JavaScript).
    pub(super) insert: Option<i64>,
    /// A refused answer, decline or withdrawal, beside its request.
    pub(super) request_error: Option<super::requests::RequestError>,
    pub(super) ask_mentioned: bool,
    pub(super) ask_due: String,
}

pub(super) fn render(
    current: &CurrentUser,
    loaded: Loaded,
    drafts: Drafts,
    errors: FieldErrors,
    notice: Option<&'static str>,
) -> AppResult<HttpResponse> {
    let t = current.tr;
    let c = &loaded.conversation;
    let full =
        policy::sees_contact_details(&current.actor, current.org.mask_contacts_for_collaborators);
    let customer = CustomerSummary {
        id: loaded.customer.id,
        email: shown(loaded.customer.email.as_deref(), !full, mask_email),
        phone: shown(loaded.customer.phone.as_deref(), !full, mask_phone),
        name: loaded.customer.name.clone(),
    };
    let saved = loaded.saved.as_ref().map(|listed| {
        saved_choices(
            listed,
            &crate::services::saved_replies::Placeholders {
                customer_name: &loaded.customer.name,
                agent_name: &current.user.name,
                conversation_id: c.id,
            },
            t,
        )
    });
    let mut drafts = drafts;
    if let Some(chosen) = drafts
        .insert
        .and_then(|id| saved.iter().flatten().find(|s| s.id == id))
    {
        match chosen.kind {
            "reply" => drafts.reply = chosen.body.clone(),
            _ => drafts.note = chosen.body.clone(),
        }
    }
    let status = t.get(&format!("status.{}", c.status));
    let now = loaded.now;
    let (mut shown_requests, mut earlier_requests) =
        super::requests::lines(&loaded.requests, current, now);
    if let Some(error) = drafts.request_error.take() {
        let shown = shown_requests.iter().any(|l| l.id == error.id);
        let lines = if shown {
            &mut shown_requests
        } else {
            &mut earlier_requests
        };
        super::requests::attach(lines, Some(error));
    }
    let answering = super::requests::answering(&loaded.requests, current);
    let status_code = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    if current.actor.is_collaborator() {
        return html_with_status(
            &CollaboratorConversationPage {
                ctx: Ctx::for_user(current, "conversations"),
                id: c.id,
                subject: c.subject.clone(),
                status,
                thread: loaded.thread.clone(),
                customer,
                tags: loaded.tags,
                note: drafts.note,
                warning: drafts.warning.clone(),
                errors,
                notice,
                task_rows: loaded.tasks.0,
                new_task_link: loaded.tasks.1,
                saved,
                newest: loaded.thread.newest,
                folder_note: super::folders::folder_note(c, current),
                grant_lines: grant_lines(&loaded.grants, current),
                can_invite: false,
                shown_requests,
                earlier_requests,
                answering,
                ask_mentioned: drafts.ask_mentioned,
                ask_due: drafts.ask_due,
            },
            status_code,
        );
    }
    let props = drafts.props.unwrap_or_else(|| PropertyForm {
        status: c.status.to_string(),
        snoozed_until: c
            .snoozed_until
            .map(|at| {
                at.and_utc()
                    .with_timezone(&current.tz)
                    .format("%Y-%m-%dT%H:%M")
                    .to_string()
            })
            .unwrap_or_default(),
        priority: c.priority.to_string(),
        assignee: c.assignee_id.map(|a| a.to_string()).unwrap_or_default(),
        team: c.team_id.map(|a| a.to_string()).unwrap_or_default(),
        tags: loaded.tags.join(", "),
    });
    html_with_status(
        &ConversationPage {
            ctx: Ctx::for_user(current, "conversations"),
            id: c.id,
            subject: c.subject.clone(),
            status,
            thread: loaded.thread.clone(),
            customer,
            tags: loaded.tags,
            can_reply: allowed(current, Flag::ConversationsReply),
            can_update: allowed(current, Flag::ConversationsUpdate),
            can_assign: allowed(current, Flag::ConversationsAssign),
            props,
            pickers: loaded.pickers,
            statuses: status_options(current),
            priorities: Priority::ALL
                .iter()
                .map(|p| (p.key(), t.get(&format!("priority.{p}"))))
                .collect(),
            reply: drafts.reply,
            note: drafts.note,
            warning: drafts.warning.clone(),
            errors,
            notice,
            task_rows: loaded.tasks.0,
            new_task_link: loaded.tasks.1,
            me: current.user.id,
            saved,
            newest: loaded.thread.newest,
            folder_note: super::folders::folder_note(c, current),
            can_move: allowed(current, Flag::ConversationsArchive),
            folder: c.folder.map_or("", |f| f.key()),
            grant_lines: grant_lines(&loaded.grants, current),
            can_see_audience: policy::may_see_audience(&current.actor),
            can_invite: policy::may_invite_into_conversation(&current.actor),
            shown_requests,
            earlier_requests,
            answering,
            ask_mentioned: drafts.ask_mentioned,
            ask_due: drafts.ask_due,
        },
        status_code,
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ConversationNotice {
    pub notice: String,
    /// Users mentioned in the last note who cannot see the conversation.
    pub unseen: String,
    /// A saved reply to put into its composer (without JavaScript).
    pub insert: String,
    /// List the saved replies (the picker without JavaScript).
    pub saved: String,
}

pub(super) fn notice_key(notice: &str) -> Option<&'static str> {
    match notice {
        "replied" => Some("conversation.notice.replied"),
        "replied_done" => Some("conversation.notice.replied_done"),
        "replied_pending" => Some("conversation.notice.replied_pending"),
        "noted" => Some("conversation.notice.noted"),
        "updated" => Some("conversation.notice.updated"),
        "trashed" => Some("conversation.notice.trashed"),
        "spam" => Some("conversation.notice.spam"),
        "restored" => Some("conversation.notice.restored"),
        _ => None,
    }
}

pub async fn show(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<ConversationNotice>,
) -> AppResult<HttpResponse> {
    let mut loaded = load(&current, &state, *id).await?;
    if !query.insert.is_empty() || !query.saved.is_empty() {
        let scope = policy::snippet_scope(&current.actor);
        loaded.saved = Some(
            state
                .db(move |conn| Ok(crate::models::saved_reply::visible(conn, &scope)?))
                .await?,
        );
    }
    let (user_id, conversation_id, now) =
        (current.user.id, loaded.conversation.id, state.clock.now());
    let unseen_ids: Vec<i64> = query
        .unseen
        .split(',')
        .filter_map(|s| s.parse().ok())
        .collect();
    // Nothing to mark read and no one to name: no database work at all.
    let unread = current.unread > 0;
    let activity = loaded.conversation.last_activity_at;
    let new_activity = loaded.seen_activity_at.is_none_or(|seen| seen < activity);
    let unseen = if !unread && !new_activity && unseen_ids.is_empty() {
        Vec::new()
    } else {
        state
            .db(move |conn| {
                if new_activity {
                    conversation::mark_seen(conn, user_id, conversation_id, activity)?;
                }
                // Opening the conversation reads its notifications.
                if unread {
                    crate::models::notification::mark_read(
                        conn,
                        user_id,
                        None,
                        Some(crate::models::notification::About::Conversation(
                            conversation_id,
                        )),
                        now,
                    )?;
                }
                Ok(crate::models::people::names_of(conn, &unseen_ids)?)
            })
            .await?
    };
    let mut drafts = Drafts::default();
    if !unseen.is_empty() {
        drafts.warning = Some(current.tr.fmt(
            "conversation.notice.unseen",
            &[("names", &unseen.join(", "))],
        ));
    }
    drafts.insert = query.insert.parse().ok();
    render(
        &current,
        loaded,
        drafts,
        FieldErrors::default(),
        notice_key(&query.notice),
    )
}

/// The picker's list, for the script that fetches it on opening.
#[derive(Template)]
#[template(path = "partials/saved_list.html")]
struct SavedList {
    ctx: Ctx,
    id: i64,
    saved: Vec<SavedChoice>,
}

pub async fn saved_replies(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let (scope, user_id, team_ids) = reader(&current);
    let snippets = policy::snippet_scope(&current.actor);
    let id = *id;
    let (customer_name, listed) = state
        .db(move |conn| {
            let reader = Reader {
                scope: &scope,
                user_id,
                team_ids: &team_ids,
            };
            let c = conversation::find_visible(conn, &reader, id)?.ok_or(AppError::NotFound)?;
            let customer = customer::find(conn, c.customer_id)?.ok_or(AppError::NotFound)?;
            Ok((
                customer.name,
                crate::models::saved_reply::visible(conn, &snippets)?,
            ))
        })
        .await?;
    let saved = saved_choices(
        &listed,
        &crate::services::saved_replies::Placeholders {
            customer_name: &customer_name,
            agent_name: &current.user.name,
            conversation_id: id,
        },
        current.tr,
    );
    html_with_status(
        &SavedList {
            ctx: Ctx::for_user(&current, "conversations"),
            id,
            saved,
        },
        StatusCode::OK,
    )
}
