//! Conversations, their messages, replies, notes and search.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::idempotency::{self, Created};
use super::{ApiError, ApiResult, ApiUser, Page, cursor, page_limit, time};
use crate::db::DbConn;
use crate::models::conversation::{
    self, Conversation, Filter, Folder, MessageKind, Reader, Sort, Status, View,
};
use crate::models::{attachment, customer};
use crate::policy::{self, Action, ConversationScope, Flag};
use crate::services::{Problem, Refusal, conversations, messages};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct ConversationSummary {
    pub id: i64,
    pub subject: String,
    /// `open`, `pending`, `snoozed` or `done`.
    pub status: String,
    /// `low`, `normal`, `high` or `urgent`.
    pub priority: String,
    pub last_activity_at: DateTime<Utc>,
    pub customer_name: String,
    pub assignee_name: Option<String>,
    pub team_name: Option<String>,
    /// The first 120 characters of the newest message (a line of the inbox).
    pub preview: Option<String>,
    /// The customer's first message since the last reply, while unanswered.
    pub waiting_since: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct ConversationOut {
    pub id: i64,
    pub subject: String,
    pub status: String,
    pub priority: String,
    /// `email`, `web_form` or `api`.
    pub channel: String,
    pub customer_id: i64,
    pub assignee_id: Option<i64>,
    pub team_id: Option<i64>,
    pub tags: Vec<String>,
    pub snoozed_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// `trash` or `spam` once moved there (purged 30 days after `moved_at`).
    #[schema(value_type = Option<super::values::Folder>)]
    pub folder: Option<String>,
    pub moved_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct AttachmentOut {
    pub id: i64,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
    /// `GET` it with the token for the file's bytes.
    pub download_url: String,
}

#[derive(Serialize, ToSchema)]
pub struct MessageOut {
    pub id: i64,
    /// `customer` (from the customer), `reply` (to the customer) or `note` (private).
    pub kind: String,
    pub body: String,
    pub author_name: Option<String>,
    /// `web` or `email`.
    pub source: String,
    /// For replies: `queued`, `sending`, `sent`, `failing` or `failed`.
    pub delivery: Option<String>,
    pub created_at: DateTime<Utc>,
    pub attachments: Vec<AttachmentOut>,
}

#[derive(Serialize, ToSchema)]
pub struct MessageList {
    pub data: Vec<MessageOut>,
}

fn reader_parts(api: &ApiUser) -> (ConversationScope, i64, Vec<i64>) {
    (
        policy::conversation_scope(&api.actor).0,
        api.user.id,
        api.actor.team_ids.clone(),
    )
}

/// The conversation if the token's user may see it; otherwise 404 either way.
pub fn visible(
    conn: &mut DbConn,
    parts: &(ConversationScope, i64, Vec<i64>),
    id: i64,
) -> ApiResult<Conversation> {
    let reader = Reader {
        scope: &parts.0,
        user_id: parts.1,
        team_ids: &parts.2,
    };
    conversation::find_visible(conn, &reader, id)?.ok_or_else(ApiError::not_found)
}

pub fn output(conn: &mut DbConn, c: &Conversation) -> ApiResult<ConversationOut> {
    Ok(ConversationOut {
        tags: conversation::tags_of(conn, c.id)?,
        id: c.id,
        subject: c.subject.clone(),
        status: c.status.to_string(),
        priority: c.priority.to_string(),
        channel: c.channel.to_string(),
        customer_id: c.customer_id,
        assignee_id: c.assignee_id,
        team_id: c.team_id,
        snoozed_until: c.snoozed_until.map(time),
        created_at: time(c.created_at),
        updated_at: time(c.updated_at),
        last_activity_at: time(c.last_activity_at),
        closed_at: c.closed_at.map(time),
        folder: c.folder.map(|f| f.to_string()),
        moved_at: c.moved_at.map(time),
    })
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// A workspace view: `asked` (a question asked of you is open), `mine`,
    /// `unassigned`, `teams`, `all` (not done), `mentions`, `done`, or `trash` and `spam` (for those who may move
    /// conversations there). Without it, every status, Trash and Spam left out.
    #[param(inline, value_type = Option<super::values::ConversationView>)]
    pub view: Option<String>,
    #[param(inline, value_type = Option<super::values::ConversationStatus>)]
    pub status: Option<String>,
    pub assignee_id: Option<i64>,
    pub team_id: Option<i64>,
    pub tag: Option<String>,
    /// Created at or after (RFC 3339).
    pub created_from: Option<DateTime<Utc>>,
    /// Created before (RFC 3339).
    pub created_to: Option<DateTime<Utc>>,
    /// `activity` (newest activity first, the default), `waiting` (the
    /// customers who have waited longest first, then the rest by newest
    /// activity; newest first in `done`, `trash` and `spam`) or `priority`
    /// (urgent first, newest activity first within each).
    #[param(inline, value_type = Option<super::values::ConversationSort>)]
    pub sort: Option<String>,
    /// From `next_cursor` of the previous page (of the same `sort`).
    pub cursor: Option<String>,
    /// 1–100, default 50.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// Conversations the token's user can see, most recent activity first, with
/// the workspace's filters and keyset cursors (stable while new ones arrive).
#[utoipa::path(get, path = "/api/v1/conversations", tag = "conversations", params(ListQuery),
    responses((status = 200, body = Page<ConversationSummary>)))]
pub async fn list(
    api: ApiUser,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let view = match q.view.as_deref() {
        None => View::Search,
        Some(key) => View::parse(key).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_view",
                "`view` must be asked, mine, unassigned, teams, all, mentions, done, trash or spam.",
            )
        })?,
    };
    if matches!(view, View::Trash | View::Spam) {
        policy::ensure(&api.actor, Action::Use(Flag::ConversationsArchive))?;
    }
    let status = q.status.as_deref().map(Status::parse);
    if status.is_some_and(|s| s.is_none()) {
        return Err(ApiError::bad_request(
            "invalid_status",
            "`status` must be open, pending, snoozed or done.",
        ));
    }
    let limit = page_limit(q.limit)?;
    let sort = match q.sort.as_deref() {
        None => Sort::default(),
        Some(key) => Sort::parse(key).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_sort",
                "`sort` must be activity, waiting or priority.",
            )
        })?,
    };
    let after: Option<(usize, DateTime<Utc>, i64)> = cursor::decode(q.cursor.as_deref())?;
    let filter = Filter {
        ids: None,
        created_from: q.created_from.map(|t| t.naive_utc()),
        created_to: q.created_to.map(|t| t.naive_utc()),
        status: status.flatten(),
        assignee_id: q.assignee_id,
        team_id: q.team_id,
        tag: q.tag,
        request: None,
        sort,
        after: after.map(|(segment, at, id)| conversation::Cursor {
            segment,
            at: at.naive_utc(),
            id,
        }),
    };
    let parts = reader_parts(&api);
    let page = super::db(&state, move |conn| {
        let reader = Reader {
            scope: &parts.0,
            user_id: parts.1,
            team_ids: &parts.2,
        };
        Ok(conversation::list(conn, &reader, view, &filter, limit)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(summaries(page)))
}

fn summaries(
    (rows, next): (Vec<conversation::Row>, Option<conversation::Cursor>),
) -> Page<ConversationSummary> {
    let next_cursor = next.map(|c| cursor::encode(&(c.segment, time(c.at), c.id)));
    Page {
        data: rows
            .into_iter()
            .map(|r| ConversationSummary {
                id: r.id,
                subject: r.subject,
                status: r.status.to_string(),
                priority: r.priority.to_string(),
                last_activity_at: time(r.last_activity_at),
                customer_name: r.customer_name,
                assignee_name: r.assignee_name,
                team_name: r.team_name,
                preview: r.preview,
                waiting_since: r.waiting_since.map(time),
            })
            .collect(),
        next_cursor,
    }
}

#[utoipa::path(get, path = "/api/v1/conversations/{id}", tag = "conversations",
    params(("id" = i64, Path)), responses((status = 200, body = ConversationOut)))]
pub async fn show(
    api: ApiUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let parts = reader_parts(&api);
    let id = *id;
    let out = super::db(&state, move |conn| {
        let c = visible(conn, &parts, id)?;
        output(conn, &c)
    })
    .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// The timeline: customer messages, replies and private notes, oldest first.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/messages", tag = "conversations",
    params(("id" = i64, Path)), responses((status = 200, body = MessageList)))]
pub async fn messages(
    api: ApiUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let parts = reader_parts(&api);
    let id = *id;
    let list = super::db(&state, move |conn| {
        visible(conn, &parts, id)?;
        let mut files = attachment::of_conversation(conn, id)?;
        let data = conversation::messages(conn, id)?
            .into_iter()
            .map(|m| {
                let (own, rest): (Vec<_>, Vec<_>) =
                    files.drain(..).partition(|f| f.message_id == Some(m.id));
                files = rest;
                MessageOut {
                    id: m.id,
                    author_name: m.user_name.or(m.customer_name),
                    delivery: if m.kind == MessageKind::Reply {
                        m.delivery
                    } else {
                        None
                    },
                    kind: m.kind.to_string(),
                    body: m.body,
                    source: m.source,
                    created_at: time(m.created_at),
                    attachments: own
                        .into_iter()
                        .map(|f| AttachmentOut {
                            id: f.id,
                            filename: f.filename,
                            content_type: f.content_type,
                            size_bytes: f.size_bytes,
                            download_url: format!("/api/v1/attachments/{}", f.id),
                        })
                        .collect(),
                }
            })
            .collect();
        Ok(MessageList { data })
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConversation {
    /// The customer's address; a new customer is created when unknown.
    #[schema(format = Email, max_length = 254)]
    pub customer_email: String,
    pub customer_name: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "[^\\t\\n\\u000b\\f\\r \\u0000\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub subject: String,
    /// The customer's first message.
    #[schema(
        min_length = 1,
        max_length = 50000,
        pattern = "[^\\t\\n\\u000b\\f\\r \\u0000\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub message: String,
    pub team_id: Option<i64>,
    pub assignee_id: Option<i64>,
}

/// Opens a conversation for a customer (channel `api`), as "New conversation" does.
#[utoipa::path(post, path = "/api/v1/conversations", tag = "conversations",
    request_body = NewConversation,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[!-~]([ -~]{0,253}[!-~])?$", description = "Retries with the same key and body get the first response")),
    responses((status = 201, body = ConversationOut, headers(("Location" = String)))))]
pub async fn create(
    api: ApiUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<NewConversation>,
) -> ApiResult<HttpResponse> {
    let input = body.into_inner();
    let who = api.caller(&state, &req);
    let request = serde_json::to_value(&input)?;
    idempotency::run(&state, &api, &req, &request, move |conn| {
        let opened = conversations::NewConversation {
            customer_email: &input.customer_email,
            customer_name: input.customer_name.as_deref(),
            subject: &input.subject,
            message: &input.message,
            team_id: input.team_id,
            assignee_id: input.assignee_id,
            channel: conversation::Channel::Api,
        };
        let id = conversations::open(conn, &who.ctx(), &who.actor, &opened)?;
        let c = conversation::find(conn, id)?.ok_or_else(ApiError::not_found)?;
        Ok(Created::new(
            output(conn, &c)?,
            format!("/api/v1/conversations/{id}"),
        ))
    })
    .await
}

/// `null` and absent differ: `"assignee_id": null` unassigns.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConversationChanges {
    #[schema(value_type = Option<super::values::ConversationStatus>)]
    pub status: Option<String>,
    /// Required with `status: snoozed`; must be in the future.
    pub snoozed_until: Option<DateTime<Utc>>,
    #[schema(value_type = Option<super::values::Priority>)]
    pub priority: Option<String>,
    /// `null` unassigns.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub assignee_id: Option<Option<i64>>,
    /// `null` removes the team.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub team_id: Option<Option<i64>>,
    /// Replaces the tags.
    pub tags: Option<Vec<String>>,
    /// `trash` or `spam` moves the conversation there (marking as spam
    /// blocks the customer); `null` brings it back (out of Spam: unblocks).
    /// Needs the archive permission.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<super::values::Folder>)]
    pub folder: Option<Option<String>>,
}

/// Changes properties (needs the update permission; assigning needs assign).
#[utoipa::path(patch, path = "/api/v1/conversations/{id}", tag = "conversations",
    params(("id" = i64, Path)), request_body = ConversationChanges,
    responses((status = 200, body = ConversationOut)))]
pub async fn update(
    api: ApiUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Json<ConversationChanges>,
) -> ApiResult<HttpResponse> {
    let input = body.into_inner();
    let folder = match input
        .folder
        .as_ref()
        .map(|f| f.as_deref().map(Folder::parse))
    {
        Some(Some(None)) => {
            return Err(ApiError::invalid(vec![(
                "folder",
                "must be trash, spam or null".into(),
            )]));
        }
        moved => moved.map(Option::flatten),
    };
    let properties_changed = input.status.is_some()
        || input.snoozed_until.is_some()
        || input.priority.is_some()
        || input.assignee_id.is_some()
        || input.team_id.is_some()
        || input.tags.is_some();
    let changes = conversations::Changes {
        status: input.status,
        snoozed_until: input.snoozed_until.map(|at| at.naive_utc()),
        priority: input.priority,
        assignee_id: input.assignee_id,
        team_id: input.team_id,
        tags: input.tags,
    };
    let (id, who) = (*id, api.caller(&state, &req));
    let out = super::db(&state, move |conn| {
        crate::db::write_transaction(conn, |conn| {
            // A conversation out of sight moves nowhere, and the read
            // below answers 404 for it.
            if let Some(folder) = folder {
                conversations::move_to(conn, &who.ctx(), &who.by(), &[id], folder)?;
            }
            let c = if properties_changed || folder.is_none() {
                conversations::update_properties(conn, &who.ctx(), &who.author(), id, &changes)?
            } else {
                conversations::visible(conn, &who.actor, id)?
            };
            output(conn, &c)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(out))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// Plain text (Markdown in notes; `@Name` or `@email` mentions people).
    #[schema(
        min_length = 1,
        max_length = 50000,
        pattern = "[^\\t\\n\\u000b\\f\\r \\u0000\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub body: String,
}

/// Replies to the customer by email (never for collaborators: 403).
#[utoipa::path(post, path = "/api/v1/conversations/{id}/replies", tag = "conversations",
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[!-~]([ -~]{0,253}[!-~])?$", description = "Retries with the same key and body get the first response; the reply is sent once")),
    request_body = NewMessage,
    responses((status = 201, body = MessageOut, headers(("Location" = String)))))]
pub async fn reply(
    api: ApiUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Json<NewMessage>,
) -> ApiResult<HttpResponse> {
    write_message(api, state, req, *id, body.into_inner(), true).await
}

/// Adds a private note; mentioned people who can see the conversation are told.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/notes", tag = "conversations",
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[!-~]([ -~]{0,253}[!-~])?$", description = "Retries with the same key and body get the first response")),
    request_body = NewMessage,
    responses((status = 201, body = MessageOut, headers(("Location" = String)))))]
pub async fn note(
    api: ApiUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Json<NewMessage>,
) -> ApiResult<HttpResponse> {
    write_message(api, state, req, *id, body.into_inner(), false).await
}

async fn write_message(
    api: ApiUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: i64,
    input: NewMessage,
    is_reply: bool,
) -> ApiResult<HttpResponse> {
    let who = api.caller(&state, &req);
    let request = serde_json::to_value(&input)?;
    idempotency::run(&state, &api, &req, &request, move |conn| {
        let (ctx, author) = (who.ctx(), who.author());
        let written = messages::Written::typed(input.body.trim(), &[]);
        let written = if is_reply {
            messages::add_reply(conn, &ctx, &author, id, &written).map(|_| ())
        } else {
            messages::add_note(conn, &ctx, &author, id, &written).map(|_| ())
        };
        written.map_err(|refusal| match refusal {
            Refusal::Fields(fields) if fields.has(&Problem::CustomerWithoutEmail) => {
                ApiError::conflict(
                    "customer_without_email",
                    "The customer has no email address to reply to.",
                )
            }
            other => other.into(),
        })?;
        let m = conversation::messages(conn, id)?
            .into_iter()
            .rev()
            .find(|m| {
                m.kind
                    == if is_reply {
                        MessageKind::Reply
                    } else {
                        MessageKind::Note
                    }
            })
            .ok_or_else(ApiError::not_found)?;
        let out = MessageOut {
            id: m.id,
            kind: m.kind.to_string(),
            body: m.body,
            author_name: m.user_name,
            source: m.source,
            delivery: if is_reply { m.delivery } else { None },
            created_at: time(m.created_at),
            attachments: Vec::new(),
        };
        let location = format!("/api/v1/conversations/{id}/messages#{}", out.id);
        Ok(Created::new(out, location))
    })
    .await
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words to find in subjects, messages and notes, and in customers' names.
    #[param(max_length = 500)]
    pub q: String,
    /// `newest` (default): the conversation with the newest match first;
    /// `relevance`: best match first, among the newest 2,000 matches.
    #[param(inline, value_type = Option<super::values::SearchOrder>)]
    pub sort: Option<String>,
    /// From `next_cursor` of the previous page (conversations only).
    pub cursor: Option<String>,
    /// 1–100, default 50.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct SearchResults {
    pub conversations: Vec<ConversationSummary>,
    /// Customers whose name or email matches (first page only).
    pub customers: Vec<super::customers::CustomerOut>,
    /// Where the next page of conversations starts; absent on the last.
    pub next_cursor: Option<String>,
}

/// Searches what the token's user can see: conversations and customers.
/// Each page of conversations costs about the same however many match.
#[utoipa::path(get, path = "/api/v1/search", tag = "search", params(SearchQuery),
    responses((status = 200, body = SearchResults)))]
pub async fn search(
    api: ApiUser,
    state: web::Data<AppState>,
    query: web::Query<SearchQuery>,
) -> ApiResult<HttpResponse> {
    api.ensure(Action::Search)?;
    let q = query.into_inner();
    let limit = page_limit(q.limit)?;
    let order = match q.sort.as_deref() {
        None => crate::search::Order::default(),
        Some(key) => crate::search::Order::parse(key).ok_or_else(|| {
            ApiError::bad_request("invalid_sort", "`sort` must be newest or relevance.")
        })?,
    };
    let after: Option<i64> = cursor::decode(q.cursor.as_deref())?;
    let parts = reader_parts(&api);
    let see_customers = api.allowed(Action::Use(Flag::CustomersView));
    let full_contacts =
        policy::sees_contact_details(&api.actor, api.org.mask_contacts_for_collaborators);
    let results = super::db(&state, move |conn| {
        let reader = Reader {
            scope: &parts.0,
            user_id: parts.1,
            team_ids: &parts.2,
        };
        let found = crate::search::conversations(
            conn,
            &q.q,
            &parts.0,
            order,
            after,
            limit as usize,
            |conn, ids| conversation::rows_among(conn, &reader, &Filter::default(), ids),
            |row| row.id,
        )?;
        let customers = if see_customers && after.is_none() && !q.q.trim().is_empty() {
            customer::list(conn, Some(&q.q), full_contacts, None, limit)?.0
        } else {
            Vec::new()
        };
        Ok((found, customers))
    })
    .await?;
    let (found, customers) = results;
    Ok(HttpResponse::Ok().json(SearchResults {
        conversations: summaries((found.rows, None)).data,
        customers: customers
            .into_iter()
            .map(|c| super::customers::output(c, full_contacts))
            .collect(),
        next_cursor: found.next.map(|next| cursor::encode(&next)),
    }))
}

/// A file of a conversation, with the conversation's visibility (404
/// otherwise), as a download.
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "conversations",
    params(("id" = i64, Path)),
    responses((status = 200, description = "The file's bytes, with the type they showed", content_type = "*/*", body = Vec<u8>)))]
pub async fn attachment(
    api: ApiUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let (parts, id) = (reader_parts(&api), *id);
    let file = super::db(&state, move |conn| {
        let file = attachment::find(conn, id)?.ok_or_else(ApiError::not_found)?;
        visible(conn, &parts, file.conversation_id)?;
        Ok(file)
    })
    .await?;
    Ok(crate::web::file_download(file))
}
