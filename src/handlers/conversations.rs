//! The conversations workspace: views with counts, the conversation page
//! (one timeline of customer messages, replies and private notes), and the
//! reply, note and property forms. Collaborators get the minimal page: the
//! thread, the customer summary and a note composer — nothing else is even
//! in their HTML, and the server refuses the rest with 403.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{NaiveDateTime, TimeZone};
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::db::write_transaction;
use crate::error::{AppError, AppResult};
use crate::forms::FieldErrors;
use crate::models::attachment;
use crate::models::conversation::{self, Conversation, Filter, Reader, View};
use crate::models::customer;
use crate::models::team::Team;
use crate::pages::{Badge, Ctx, format_datetime, html_with_status};
use crate::policy::{self, Action, ConversationScope, Flag};
use crate::privacy::{mask_email, mask_phone, shown};
use crate::services::{self, Refusal, conversations, messages};
use crate::state::AppState;
use crate::uploads::{self, Submission};
use crate::urlencoded::url_encode;
use crate::web::redirect;

const PAGE_SIZE: i64 = 50;

fn reader(current: &CurrentUser) -> (ConversationScope, i64, Vec<i64>) {
    let (scope, _) = policy::conversation_scope(&current.actor);
    (scope, current.user.id, current.actor.team_ids.clone())
}

fn allowed(current: &CurrentUser, flag: Flag) -> bool {
    policy::can(&current.actor, Action::Use(flag)).allowed
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct ListQuery {
    pub view: String,
    pub status: String,
    pub assignee: String,
    pub team: String,
    pub tag: String,
    pub after_at: String,
    pub after_id: Option<i64>,
}

pub struct ViewTab {
    pub key: &'static str,
    pub label: &'static str,
    /// "1000+" past the cap.
    pub count: String,
    pub current: bool,
}

pub struct ListRow {
    pub id: i64,
    pub subject: String,
    pub status_key: String,
    pub status: &'static str,
    pub priority: &'static str,
    pub customer: String,
    pub assignee: String,
    pub team: String,
    pub when: String,
}

#[derive(Template)]
#[template(path = "pages/conversations.html")]
struct ListPage {
    ctx: Ctx,
    tabs: Vec<ViewTab>,
    view: &'static str,
    query: ListQuery,
    rows: Vec<ListRow>,
    next: Option<String>,
    teams: Vec<Team>,
    assignees: Vec<(i64, String)>,
    statuses: Vec<(&'static str, &'static str)>,
    /// Bulk actions are offered only to those who may update conversations.
    can_bulk: bool,
    can_assign: bool,
    saved: Vec<crate::search::SavedSearch>,
}

impl ListPage {
    fn is(&self, value: &str, option: &str) -> bool {
        value == option
    }

    fn is_id(&self, value: &str, id: &i64) -> bool {
        value == id.to_string()
    }
}

fn status_options(current: &CurrentUser) -> Vec<(&'static str, &'static str)> {
    conversation::STATUSES
        .iter()
        .map(|s| (*s, current.tr.get(&format!("status.{s}"))))
        .collect()
}

/// The views this reader has: "All" only for those who see everything.
fn views_for(scope: &ConversationScope) -> Vec<View> {
    View::ALL
        .into_iter()
        .filter(|v| *v != View::All || *scope == ConversationScope::All)
        .collect()
}

pub async fn list(
    current: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let (scope, user_id, team_ids) = reader(&current);
    if scope == ConversationScope::None {
        return Err(AppError::Forbidden("no conversation access".into()));
    }
    let query = query.into_inner();
    let views = views_for(&scope);
    let view = View::parse(&query.view)
        .filter(|v| views.contains(v))
        .unwrap_or(View::Mine);
    let filter = Filter {
        status: Some(query.status.clone()).filter(|s| conversation::STATUSES.contains(&s.as_str())),
        assignee_id: query.assignee.parse().ok(),
        team_id: query.team.parse().ok(),
        tag: Some(query.tag.trim().to_string()).filter(|t| !t.is_empty()),
        after: NaiveDateTime::parse_from_str(&query.after_at, "%Y-%m-%dT%H:%M:%S%.f")
            .ok()
            .zip(query.after_id),
        ..Filter::default()
    };
    let (counts, (rows, more), teams, assignees, saved) = state
        .db(move |conn| {
            let reader = Reader {
                scope: &scope,
                user_id,
                team_ids: &team_ids,
            };
            Ok((
                conversation::counts(conn, &reader)?,
                conversation::list(conn, &reader, view, &filter, PAGE_SIZE)?,
                Team::all(conn)?,
                crate::models::people::assignable_users(conn, None)?,
                crate::search::saved_for(conn, user_id, &team_ids)?,
            ))
        })
        .await?;
    let t = current.tr;
    let next = more
        .then(|| {
            rows.last().map(|r| {
                let mut link = format!(
                    "/conversations?view={}&after_at={}&after_id={}",
                    view.key(),
                    r.last_activity_at.format("%Y-%m-%dT%H:%M:%S%.f"),
                    r.id
                );
                for (key, value) in [
                    ("status", &query.status),
                    ("assignee", &query.assignee),
                    ("team", &query.team),
                    ("tag", &query.tag),
                ] {
                    if !value.is_empty() {
                        link.push_str(&format!("&{key}={}", url_encode(value)));
                    }
                }
                link
            })
        })
        .flatten();
    let tabs = views
        .iter()
        .map(|v| ViewTab {
            key: v.key(),
            label: t.get(&format!("conversations.view.{}", v.key())),
            count: match counts.get(v.key()).copied().unwrap_or(0) {
                n if n > conversation::COUNT_CAP => format!("{}+", conversation::COUNT_CAP),
                n => n.to_string(),
            },
            current: *v == view,
        })
        .collect();
    let rows = rows
        .into_iter()
        .map(|r| ListRow {
            id: r.id,
            status: t.get(&format!("status.{}", r.status)),
            priority: t.get(&format!("priority.{}", r.priority)),
            status_key: r.status,
            subject: r.subject,
            customer: r.customer_name,
            assignee: r.assignee_name.unwrap_or_default(),
            team: r.team_name.unwrap_or_default(),
            when: format_datetime(r.last_activity_at, current.tz),
        })
        .collect();
    html_with_status(
        &ListPage {
            ctx: Ctx::for_user(&current, "conversations"),
            tabs,
            view: view.key(),
            statuses: status_options(&current),
            query,
            rows,
            next,
            teams,
            assignees,
            can_bulk: allowed(&current, Flag::ConversationsUpdate),
            can_assign: allowed(&current, Flag::ConversationsAssign),
            saved,
        },
        StatusCode::OK,
    )
}

pub struct TimelineEntry {
    /// A reply's email that failed or keeps failing, in words.
    pub delivery_problem: Option<String>,
    pub kind: String,
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

pub struct CustomerSummary {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub phone: String,
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

struct Loaded {
    conversation: Conversation,
    timeline: Vec<conversation::MessageLine>,
    customer: customer::Customer,
    tags: Vec<String>,
    teams: Vec<Team>,
    assignees: Vec<(i64, String)>,
    files: Vec<attachment::AttachmentInfo>,
    tasks: (Vec<super::tasks::TaskRow>, Option<String>),
}

async fn load(current: &CurrentUser, state: &AppState, id: i64) -> AppResult<Loaded> {
    let (scope, user_id, team_ids) = reader(current);
    let mut loaded = state
        .db(move |conn| {
            let reader = Reader {
                scope: &scope,
                user_id,
                team_ids: &team_ids,
            };
            // Not visible and not existing look the same: 404.
            let conversation =
                conversation::find_visible(conn, &reader, id)?.ok_or(AppError::NotFound)?;
            let customer =
                customer::find(conn, conversation.customer_id)?.ok_or(AppError::NotFound)?;
            Ok(Loaded {
                timeline: conversation::messages(conn, id)?,
                files: attachment::of_conversation(conn, id)?,
                tags: conversation::tags_of(conn, id)?,
                teams: Team::all(conn)?,
                assignees: crate::models::people::assignable_users(conn, None)?,
                tasks: (Vec::new(), None),
                conversation,
                customer,
            })
        })
        .await?;
    loaded.tasks = super::tasks::panel(
        current,
        state,
        crate::models::task::TaskList::Conversation(loaded.conversation.id),
    )
    .await?;
    Ok(loaded)
}

#[derive(Template)]
#[template(path = "pages/conversation.html")]
struct ConversationPage {
    ctx: Ctx,
    id: i64,
    subject: String,
    status: &'static str,
    timeline: Vec<TimelineEntry>,
    customer: CustomerSummary,
    tags: Vec<String>,
    can_reply: bool,
    can_update: bool,
    can_assign: bool,
    props: PropertyForm,
    teams: Vec<Team>,
    assignees: Vec<(i64, String)>,
    statuses: Vec<(&'static str, &'static str)>,
    priorities: Vec<(&'static str, &'static str)>,
    reply: String,
    note: String,
    warning: Option<String>,
    errors: FieldErrors,
    notice: Option<&'static str>,
    task_rows: Vec<super::tasks::TaskRow>,
    new_task_link: Option<String>,
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
struct CollaboratorConversationPage {
    ctx: Ctx,
    id: i64,
    subject: String,
    status: &'static str,
    timeline: Vec<TimelineEntry>,
    customer: CustomerSummary,
    tags: Vec<String>,
    note: String,
    warning: Option<String>,
    errors: FieldErrors,
    notice: Option<&'static str>,
    task_rows: Vec<super::tasks::TaskRow>,
    new_task_link: Option<String>,
}

/// Text typed into a composer, kept when the page comes back with an error.
#[derive(Default)]
struct Drafts {
    reply: String,
    note: String,
    props: Option<PropertyForm>,
    /// Said above the thread (mentions that notified nobody).
    warning: Option<String>,
}

fn render(
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
    let timeline = loaded
        .timeline
        .iter()
        .map(|m| TimelineEntry {
            kind: m.kind.clone(),
            author: match (&m.user_name, &m.customer_name) {
                (Some(name), _) => Badge::new(name, m.user_type.as_deref() == Some("collaborator")),
                (None, Some(name)) => Badge::new(name, false),
                (None, None) => Badge::new("?", false),
            },
            when: format_datetime(m.created_at, current.tz),
            html: if m.source == "email" {
                String::new()
            } else {
                crate::markdown::render(&m.body)
            },
            text: (m.source == "email").then(|| m.body.clone()),
            quoted: m.quoted.clone(),
            files: loaded
                .files
                .iter()
                .filter(|f| f.message_id == Some(m.id))
                .map(|f| FileLink {
                    id: f.id,
                    name: f.filename.clone(),
                    size: human_size(f.size_bytes),
                    image: f.is_image(),
                })
                .collect(),
            label: t.get(&format!("conversation.kind.{}", m.kind)),
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
        })
        .collect();
    let status = t.get(&format!("status.{}", c.status));
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
                timeline,
                customer,
                tags: loaded.tags,
                note: drafts.note,
                warning: drafts.warning.clone(),
                errors,
                notice,
                task_rows: loaded.tasks.0,
                new_task_link: loaded.tasks.1,
            },
            status_code,
        );
    }
    let props = drafts.props.unwrap_or_else(|| PropertyForm {
        status: c.status.clone(),
        snoozed_until: c
            .snoozed_until
            .map(|at| {
                at.and_utc()
                    .with_timezone(&current.tz)
                    .format("%Y-%m-%dT%H:%M")
                    .to_string()
            })
            .unwrap_or_default(),
        priority: c.priority.clone(),
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
            timeline,
            customer,
            tags: loaded.tags,
            can_reply: allowed(current, Flag::ConversationsReply),
            can_update: allowed(current, Flag::ConversationsUpdate),
            can_assign: allowed(current, Flag::ConversationsAssign),
            props,
            teams: loaded.teams,
            assignees: loaded.assignees,
            statuses: status_options(current),
            priorities: conversation::PRIORITIES
                .iter()
                .map(|p| (*p, t.get(&format!("priority.{p}"))))
                .collect(),
            reply: drafts.reply,
            note: drafts.note,
            warning: drafts.warning.clone(),
            errors,
            notice,
            task_rows: loaded.tasks.0,
            new_task_link: loaded.tasks.1,
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
}

fn notice_key(notice: &str) -> Option<&'static str> {
    match notice {
        "replied" => Some("conversation.notice.replied"),
        "noted" => Some("conversation.notice.noted"),
        "updated" => Some("conversation.notice.updated"),
        _ => None,
    }
}

pub async fn show(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<ConversationNotice>,
) -> AppResult<HttpResponse> {
    let loaded = load(&current, &state, *id).await?;
    let (user_id, conversation_id, now) =
        (current.user.id, loaded.conversation.id, state.clock.now());
    let unseen_ids: Vec<i64> = query
        .unseen
        .split(',')
        .filter_map(|s| s.parse().ok())
        .collect();
    let unseen = state
        .db(move |conn| {
            // Opening the conversation reads its notifications.
            crate::models::notification::mark_read(
                conn,
                user_id,
                None,
                Some(crate::models::notification::About::Conversation(
                    conversation_id,
                )),
                now,
            )?;
            Ok(crate::models::people::names_of(conn, &unseen_ids)?)
        })
        .await?;
    let mut drafts = Drafts::default();
    if !unseen.is_empty() {
        drafts.warning = Some(current.tr.fmt(
            "conversation.notice.unseen",
            &[("names", &unseen.join(", "))],
        ));
    }
    render(
        &current,
        loaded,
        drafts,
        FieldErrors::default(),
        notice_key(&query.notice),
    )
}

/// The composer's text and files; errors for the text, refused files and
/// broken uploads, so the page can come back with everything typed.
fn read_composer(
    current: &CurrentUser,
    field: &'static str,
    submission: &Submission,
) -> FieldErrors {
    let body = submission.field("body");
    let t = current.tr;
    let mut errors = messages::Written::typed(&body, &[])
        .problems()
        .renamed(&[("body", field)])
        .messages(t);
    let files_field = if field == "reply" {
        "reply_files"
    } else {
        "note_files"
    };
    if submission.broken {
        errors.add(files_field, t.get("conversation.error.upload"));
    }
    for name in &submission.too_large {
        errors.add(
            files_field,
            t.fmt(
                "conversation.error.file_too_large",
                &[
                    ("name", name),
                    ("mb", &(attachment::MAX_BYTES / (1024 * 1024)).to_string()),
                ],
            ),
        );
    }
    errors
}

pub async fn add_note(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::ConversationsNote))?;
    let loaded = load(&current, &state, *id).await?;
    let submission = uploads::read(&req, payload).await;
    let unseen = match write_from_composer(&current, &state, &loaded, submission, false).await? {
        Ok(unseen) => unseen,
        Err((errors, submission)) => {
            return render(
                &current,
                loaded,
                Drafts {
                    note: submission.field("body"),
                    ..Drafts::default()
                },
                errors,
                None,
            );
        }
    };
    let unseen = unseen
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let id = loaded.conversation.id;
    if unseen.is_empty() {
        Ok(redirect(&format!("/conversations/{id}?notice=noted")))
    } else {
        Ok(redirect(&format!(
            "/conversations/{id}?notice=noted&unseen={unseen}"
        )))
    }
}

pub async fn reply(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::ConversationsReply))?;
    let loaded = load(&current, &state, *id).await?;
    let submission = uploads::read(&req, payload).await;
    match write_from_composer(&current, &state, &loaded, submission, true).await? {
        Ok(_) => Ok(redirect(&format!(
            "/conversations/{}?notice=replied",
            loaded.conversation.id
        ))),
        Err((errors, submission)) => render(
            &current,
            loaded,
            Drafts {
                reply: submission.field("body"),
                ..Drafts::default()
            },
            errors,
            None,
        ),
    }
}

/// Writes the composer's reply or note through the message service; on a
/// refusal, the messages to show beside the composer and what was sent, so
/// the page comes back with everything typed.
async fn write_from_composer(
    current: &CurrentUser,
    state: &AppState,
    loaded: &Loaded,
    submission: Submission,
    reply: bool,
) -> AppResult<Result<Vec<i64>, (FieldErrors, Submission)>> {
    let field = if reply { "reply" } else { "note" };
    let errors = read_composer(current, field, &submission);
    if !errors.is_empty() {
        return Ok(Err((errors, submission)));
    }
    let id = loaded.conversation.id;
    let (actor, name) = (current.actor.clone(), current.user.name.clone());
    let org = current.org.clone();
    let config = state.config.clone();
    let now = state.clock.now();
    let outcome = state
        .db(move |conn| {
            let ctx = services::Ctx {
                org: &org,
                config: &config,
                now,
            };
            let author = messages::Author {
                actor: &actor,
                name: &name,
            };
            let result = write_transaction(conn, |conn| {
                let body = submission.field("body");
                let files = submission.new_files();
                let written = messages::Written::typed(body.trim(), &files);
                if reply {
                    messages::add_reply(conn, &ctx, &author, id, &written).map(|_| Vec::new())
                } else {
                    messages::add_note(conn, &ctx, &author, id, &written).map(|(_, unseen)| unseen)
                }
            });
            Ok(match result {
                Ok(unseen) => Ok(unseen),
                Err(Refusal::Fields(fields)) => Err((fields, submission)),
                Err(other) => return Err(other.into()),
            })
        })
        .await?;
    Ok(outcome.map_err(|(fields, submission)| {
        (
            fields.renamed(&[("body", field)]).messages(current.tr),
            submission,
        )
    }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PropertiesForm {
    pub status: String,
    pub snoozed_until: String,
    pub priority: String,
    pub assignee: String,
    pub team: String,
    pub tags: String,
}

pub async fn update_properties(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<PropertiesForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    // The picker shows the reader's local time; an unreadable one is no time.
    let snoozed_until =
        chrono::NaiveDateTime::parse_from_str(&form.snoozed_until, "%Y-%m-%dT%H:%M")
            .ok()
            .and_then(|local| current.tz.from_local_datetime(&local).earliest())
            .map(|at| at.naive_utc());
    let changes = conversations::Changes {
        status: Some(form.status.clone()),
        snoozed_until,
        priority: Some(form.priority.clone()),
        assignee_id: Some(form.assignee.parse::<i64>().ok()),
        team_id: Some(form.team.parse::<i64>().ok()),
        tags: Some(vec![form.tags.clone()]),
    };
    let (actor, name) = (current.actor.clone(), current.user.name.clone());
    let org = current.org.clone();
    let config = state.config.clone();
    let now = state.clock.now();
    let id = *id;
    let outcome = state
        .db(move |conn| {
            let ctx = services::Ctx {
                org: &org,
                config: &config,
                now,
            };
            let author = messages::Author {
                actor: &actor,
                name: &name,
            };
            match write_transaction(conn, |conn| {
                conversations::update_properties(conn, &ctx, &author, id, &changes)
            }) {
                Ok(_) => Ok(None),
                Err(Refusal::Fields(fields)) => Ok(Some(fields)),
                Err(other) => Err(other.into()),
            }
        })
        .await?;
    let Some(fields) = outcome else {
        return Ok(redirect(&format!("/conversations/{id}?notice=updated")));
    };
    let loaded = load(&current, &state, id).await?;
    let errors = fields
        .renamed(&[("assignee_id", "assignee"), ("team_id", "team")])
        .messages(current.tr);
    let props = PropertyForm {
        status: form.status,
        snoozed_until: form.snoozed_until,
        priority: form.priority,
        assignee: form.assignee,
        team: form.team,
        tags: form.tags,
    };
    render(
        &current,
        loaded,
        Drafts {
            props: Some(props),
            ..Drafts::default()
        },
        errors,
        None,
    )
}

/// Bulk actions from the list: assign, close, tag. Assigning needs the
/// assign permission; the others the update permission. Only conversations
/// the reader can see are touched.
pub async fn bulk(
    current: CurrentUser,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::ConversationsUpdate))?;
    let pairs = crate::urlencoded::form_pairs(&body);
    let value = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let ids: Vec<i64> = pairs
        .iter()
        .filter(|(k, _)| k == "ids")
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    let back = match value("view").as_str() {
        "" => "/conversations".to_string(),
        view => format!("/conversations?view={}", url_encode(view)),
    };
    let action = match value("action").as_str() {
        "assign" => conversation::Bulk::Assign(value("assignee").parse().ok()),
        "close" => conversation::Bulk::Close,
        "tag" => match conversation::parse_tags(&value("tag")).into_iter().next() {
            Some(tag) => conversation::Bulk::Tag(tag),
            None => return Ok(redirect(&back)),
        },
        _ => return Ok(redirect(&back)),
    };
    if ids.is_empty() {
        return Ok(redirect(&back));
    }
    let actor = current.actor.clone();
    let org = current.org.clone();
    let config = state.config.clone();
    let now = state.clock.now();
    state
        .db(move |conn| {
            let ctx = services::Ctx {
                org: &org,
                config: &config,
                now,
            };
            write_transaction(conn, |conn| {
                conversations::bulk(conn, &ctx, &actor, &ids, &action)
            })?;
            Ok(())
        })
        .await?;
    Ok(redirect(&back))
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct NewForm {
    pub email: String,
    pub name: String,
    pub subject: String,
    pub message: String,
    pub team: String,
    pub assignee: String,
}

#[derive(Template)]
#[template(path = "pages/conversation_new.html")]
struct NewPage {
    ctx: Ctx,
    form: NewForm,
    errors: FieldErrors,
    teams: Vec<Team>,
    assignees: Vec<(i64, String)>,
}

impl NewPage {
    fn is_id(&self, value: &str, id: &i64) -> bool {
        value == id.to_string()
    }
}

async fn new_page(
    current: &CurrentUser,
    state: &AppState,
    form: NewForm,
    errors: FieldErrors,
) -> AppResult<HttpResponse> {
    let (teams, assignees) = state
        .db(|conn| {
            Ok((
                Team::all(conn)?,
                crate::models::people::assignable_users(conn, None)?,
            ))
        })
        .await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    html_with_status(
        &NewPage {
            ctx: Ctx::for_user(current, "conversations"),
            form,
            errors,
            teams,
            assignees,
        },
        status,
    )
}

/// Agents open a conversation on behalf of a customer (a call, a chat, a
/// forwarded mail): the customer's words start the thread.
pub async fn new(current: CurrentUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::ConversationsReply))?;
    let form = NewForm {
        team: current
            .actor
            .team_ids
            .first()
            .map(|t| t.to_string())
            .unwrap_or_default(),
        ..NewForm::default()
    };
    new_page(&current, &state, form, FieldErrors::default()).await
}

pub async fn create(
    current: CurrentUser,
    state: web::Data<AppState>,
    form: web::Form<NewForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let (actor, f) = (current.actor.clone(), form.clone());
    let org = current.org.clone();
    let config = state.config.clone();
    let now = state.clock.now();
    let outcome = state
        .db(move |conn| {
            let ctx = services::Ctx {
                org: &org,
                config: &config,
                now,
            };
            let input = conversations::NewConversation {
                customer_email: &f.email,
                customer_name: Some(&f.name),
                subject: &f.subject,
                message: &f.message,
                team_id: f.team.parse().ok(),
                assignee_id: f.assignee.parse().ok(),
                channel: "email",
            };
            match write_transaction(conn, |conn| conversations::open(conn, &ctx, &actor, &input)) {
                Ok(id) => Ok(Ok(id)),
                Err(Refusal::Fields(fields)) => Ok(Err(fields)),
                Err(other) => Err(other.into()),
            }
        })
        .await?;
    match outcome {
        Ok(id) => Ok(redirect(&format!("/conversations/{id}"))),
        Err(fields) => {
            let errors = fields
                .renamed(&[
                    ("customer_email", "email"),
                    ("team_id", "team"),
                    ("assignee_id", "assignee"),
                ])
                .messages(current.tr);
            new_page(&current, &state, form, errors).await
        }
    }
}

/// People the note composer may suggest after "@": those who can see this
/// conversation (JSON, for the progressive-enhancement script).
pub async fn mentionable(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::ConversationsNote))?;
    let loaded = load(&current, &state, *id).await?;
    let (org, team, now) = (
        current.org.clone(),
        loaded.conversation.team_id,
        state.clock.now(),
    );
    let people = state
        .db(move |conn| Ok(crate::models::people::who_can_see(conn, &org, team, now)?))
        .await?;
    let full =
        policy::sees_contact_details(&current.actor, current.org.mask_contacts_for_collaborators);
    let body: Vec<serde_json::Value> = people
        .into_iter()
        .map(|(name, email)| serde_json::json!({ "name": name, "email": if full { email } else { String::new() } }))
        .collect();
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(serde_json::Value::Array(body).to_string()))
}
