//! What happens in a conversation — a customer message, a reply, a note —
//! written the same way whether it came from the browser or by email: the
//! message, its files, the outbox row and the notifications, all in the
//! caller's transaction.

use chrono::NaiveDateTime;
use diesel::QueryResult;

use crate::config::Config;
use crate::db::DbConn;
use crate::mentions;
use crate::models::attachment::{self, NewFile};
use crate::models::conversation::{self, Conversation, NewMessage};
use crate::models::org::OrgSettings;
use crate::models::outbox::{self, Mail};
use crate::notify;

/// Where and when.
pub struct Context<'a> {
    pub org: &'a OrgSettings,
    pub config: &'a Config,
    pub now: NaiveDateTime,
}

/// A team member who writes.
pub struct Author<'a> {
    pub id: i64,
    pub name: &'a str,
}

/// What was written.
pub struct Written<'a> {
    pub body: &'a str,
    /// `web` or `email`.
    pub source: &'a str,
    pub quoted: Option<&'a str>,
    pub email_message_id: Option<&'a str>,
    pub files: &'a [NewFile<'a>],
}

impl<'a> Written<'a> {
    /// Text typed in the browser, with uploaded files.
    pub fn web(body: &'a str, files: &'a [NewFile<'a>]) -> Self {
        Self {
            body,
            source: "web",
            quoted: None,
            email_message_id: None,
            files,
        }
    }
}

fn about(conversation: &Conversation) -> notify::About<'_> {
    notify::About {
        id: conversation.id,
        subject: &conversation.subject,
        team_id: conversation.team_id,
    }
}

fn store_files(
    conn: &mut DbConn,
    conversation_id: i64,
    message_id: i64,
    files: &[NewFile],
    now: NaiveDateTime,
) -> QueryResult<Vec<i64>> {
    files
        .iter()
        .map(|file| attachment::store(conn, conversation_id, message_id, file, now))
        .collect()
}

/// Adds a private note and tells the people it mentions. Returns those
/// mentioned who cannot see the conversation (they are told nothing).
pub fn add_note(
    conn: &mut DbConn,
    ctx: &Context,
    conversation: &Conversation,
    author: &Author,
    written: &Written,
) -> QueryResult<Vec<i64>> {
    let message_id = conversation::insert_message(
        conn,
        &NewMessage {
            conversation_id: conversation.id,
            kind: "note",
            author_user_id: Some(author.id),
            author_customer_id: None,
            body: written.body,
            email_message_id: written.email_message_id,
            source: written.source,
            quoted: written.quoted,
        },
        ctx.now,
    )?;
    store_files(conn, conversation.id, message_id, written.files, ctx.now)?;
    conversation::touch(conn, conversation.id, ctx.now)?;
    let candidates = crate::admin::mentionable_users(conn)?;
    let from = notify::Sender {
        org: ctx.org,
        config: ctx.config,
        actor_id: Some(author.id),
        actor_name: author.name,
        now: ctx.now,
    };
    let mut unseen = Vec::new();
    for user_id in mentions::mentioned(written.body, &candidates)
        .into_iter()
        .filter(|&id| id != author.id)
    {
        if !notify::tell(
            conn,
            &from,
            user_id,
            notify::Kind::Mention,
            &about(conversation),
        )? {
            unseen.push(user_id);
        }
    }
    Ok(unseen)
}

/// Adds a public reply and queues its email (with the files) to the customer.
pub fn add_reply(
    conn: &mut DbConn,
    ctx: &Context,
    conversation: &Conversation,
    author: &Author,
    written: &Written,
    recipient: &str,
) -> QueryResult<()> {
    let chain = conversation::email_chain(conn, conversation.id)?;
    let email_message_id = format!(
        "<reply-{}-{}@{}>",
        conversation.id,
        crate::crypto::random_token(),
        mail_domain(&ctx.config.public_url)
    );
    let message_id = conversation::insert_message(
        conn,
        &NewMessage {
            conversation_id: conversation.id,
            kind: "reply",
            author_user_id: Some(author.id),
            author_customer_id: None,
            body: written.body,
            email_message_id: Some(&email_message_id),
            source: written.source,
            quoted: None,
        },
        ctx.now,
    )?;
    let files = store_files(conn, conversation.id, message_id, written.files, ctx.now)?;
    conversation::touch(conn, conversation.id, ctx.now)?;
    // The last ten ids are enough for every client to thread.
    let references = chain[chain.len().saturating_sub(10)..].join(" ");
    let subject = format!("Re: {} [#{}]", conversation.subject, conversation.id);
    let outbox_id = outbox::enqueue(
        conn,
        &Mail {
            kind: "reply",
            recipient,
            subject: &subject,
            body_text: written.body,
            message_id: Some(&email_message_id),
            in_reply_to: chain.last().map(String::as_str),
            references: Some(references.as_str()).filter(|r| !r.is_empty()),
            ..Mail::default()
        },
        ctx.now,
    )?;
    attachment::attach_to_mail(conn, outbox_id, &files)?;
    // The assignee hears of replies others send in their conversation.
    if let Some(to) = conversation.assignee_id.filter(|&to| to != author.id) {
        let from = notify::Sender {
            org: ctx.org,
            config: ctx.config,
            actor_id: Some(author.id),
            actor_name: author.name,
            now: ctx.now,
        };
        notify::tell(conn, &from, to, notify::Kind::Reply, &about(conversation))?;
    }
    Ok(())
}

/// Adds a customer's message (by email) to a conversation, reopens it if it
/// was done, pending or snoozed, and tells the assignee.
pub fn add_customer_message(
    conn: &mut DbConn,
    ctx: &Context,
    conversation: &Conversation,
    customer: (i64, &str),
    written: &Written,
) -> QueryResult<()> {
    let message_id = conversation::insert_message(
        conn,
        &NewMessage {
            conversation_id: conversation.id,
            kind: "customer",
            author_user_id: None,
            author_customer_id: Some(customer.0),
            body: written.body,
            email_message_id: written.email_message_id,
            source: written.source,
            quoted: written.quoted,
        },
        ctx.now,
    )?;
    store_files(conn, conversation.id, message_id, written.files, ctx.now)?;
    conversation::reopen(conn, conversation.id, ctx.now)?;
    conversation::touch(conn, conversation.id, ctx.now)?;
    if let Some(to) = conversation.assignee_id {
        let from = notify::Sender {
            org: ctx.org,
            config: ctx.config,
            actor_id: None,
            actor_name: customer.1,
            now: ctx.now,
        };
        notify::tell(conn, &from, to, notify::Kind::Reply, &about(conversation))?;
    }
    Ok(())
}

/// The host part of the public URL, for Message-IDs.
pub fn mail_domain(public_url: &str) -> String {
    public_url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split(['/', ':']).next())
        .filter(|h| !h.is_empty())
        .unwrap_or("localhost")
        .to_string()
}

/// A comment on a task; the assignee, the creator, earlier commenters and
/// anyone @mentioned are told (never the author).
pub fn add_task_comment(
    conn: &mut DbConn,
    from: &notify::Sender,
    task: &crate::models::task::Task,
    body: &str,
) -> QueryResult<i64> {
    use crate::models::task;
    let author = from.actor_id.unwrap_or_default();
    let id = task::add_comment(conn, task.id, author, body, from.now)?;
    let mut told: Vec<i64> = vec![author];
    let mut audience = vec![task.assignee_id];
    audience.extend(task.creator_id);
    audience.extend(task::commenters(conn, task.id)?);
    let candidates = crate::admin::mentionable_users(conn)?;
    audience.extend(mentions::mentioned(body, &candidates));
    for to in audience {
        if told.contains(&to) {
            continue;
        }
        told.push(to);
        notify::tell_task(conn, from, to, notify::TaskKind::Comment, task)?;
    }
    Ok(id)
}
