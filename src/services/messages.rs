//! What happens in a conversation — a customer message, a reply, a note —
//! written the same way from the browser, the API and email: the policy's
//! check, the text's limits, the message, its files, the outbox row and the
//! notifications, all in the caller's transaction.

use chrono::NaiveDateTime;
use diesel::QueryResult;

use super::conversations::visible;
pub use super::requests::{Answers, Asking};
use super::{Ctx, Fields, Problem, Refusal};
use crate::db::DbConn;
use crate::mentions;
use crate::models::attachment::{self, NewFile};
use crate::models::conversation::{self, Conversation, MessageKind, NewMessage, Reader};
use crate::models::outbox::{self, Mail};
use crate::notify;
use crate::policy::{self, Action, Actor, Flag};

/// The longest text the composer and the API take.
pub const MAX_BODY_CHARS: usize = 50_000;

/// A team member who writes.
pub struct Author<'a> {
    pub actor: &'a Actor,
    pub name: &'a str,
}

/// What was written.
#[derive(Clone)]
pub struct Written<'a> {
    pub body: &'a str,
    /// `web` or `email`.
    pub source: &'a str,
    pub quoted: Option<&'a str>,
    pub email_message_id: Option<&'a str>,
    pub files: &'a [NewFile<'a>],
    /// A note's questions besides its `@?` names, and their due time.
    pub asking: Asking,
    /// Which of the author's open requests a note answers.
    pub answers: Answers,
}

impl<'a> Written<'a> {
    /// Text typed in the browser or sent to the API, with uploaded files.
    pub fn typed(body: &'a str, files: &'a [NewFile<'a>]) -> Self {
        Self {
            body,
            source: "web",
            quoted: None,
            email_message_id: None,
            files,
            asking: Asking::default(),
            answers: Answers::default(),
        }
    }

    /// Typed text must be there and within the limit; mail is kept whole.
    pub fn problems(&self) -> Fields {
        let mut fields = Fields::default();
        if self.source != "email" {
            fields.text("body", self.body, MAX_BODY_CHARS);
        }
        fields
    }

    fn check(&self) -> Result<(), Refusal> {
        super::check(self.problems())
    }
}

/// The conversation as notifications name it.
pub(super) fn about(conversation: &Conversation) -> notify::About<'_> {
    notify::About {
        id: conversation.id,
        subject: &conversation.subject,
        team_id: conversation.team_id,
        customer_id: conversation.customer_id,
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

fn sender<'a>(ctx: &'a Ctx, author: &'a Author) -> notify::Sender<'a> {
    notify::Sender {
        org: ctx.org,
        config: ctx.config,
        actor_id: Some(author.actor.user_id),
        actor_name: author.name,
        now: ctx.now,
    }
}

/// Adds a private note to a conversation the author can see: answers the
/// author's open requests there (as `answers` says), asks the people it
/// names with `@?` (and those `asking` adds), and tells the people it
/// mentions. Returns the conversation and those mentioned or asked who
/// cannot see it (they are told nothing).
pub fn add_note(
    conn: &mut DbConn,
    ctx: &Ctx,
    author: &Author,
    conversation_id: i64,
    written: &Written,
) -> Result<Added, Refusal> {
    policy::ensure(author.actor, Action::Use(Flag::ConversationsNote))?;
    let conversation = visible(conn, author.actor, conversation_id)?;
    written.check()?;
    let author_id = author.actor.user_id;
    let candidates = crate::models::people::mentionable_users(conn)?;
    let others = |ids: Vec<i64>| ids.into_iter().filter(move |&id| id != author_id);
    let mentioned: Vec<i64> = others(mentions::mentioned(written.body, &candidates)).collect();
    let mut asked: Vec<i64> = others(mentions::asked(written.body, &candidates)).collect();
    if written.asking.mentioned {
        asked.extend(&mentioned);
    }
    asked.extend(&written.asking.people);
    asked.sort_unstable();
    asked.dedup();
    super::requests::check_asking(
        conn,
        ctx,
        author.actor,
        &conversation,
        &written.asking,
        &asked,
    )?;
    let message_id = conversation::insert_message(
        conn,
        &NewMessage {
            conversation_id: conversation.id,
            kind: MessageKind::Note,
            author_user_id: Some(author_id),
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
    let answered = super::requests::answer_open(
        conn,
        ctx,
        author,
        &conversation,
        message_id,
        &written.answers,
        written.body,
    )?;
    let (requests, mut unseen) = super::requests::ask(
        conn,
        ctx,
        author,
        &conversation,
        &super::requests::Question {
            message_id,
            text: written.body,
            due_at: written.asking.due_at,
        },
        &asked,
    )?;
    let from = sender(ctx, author);
    for user_id in mentioned.into_iter().filter(|id| !asked.contains(id)) {
        if !notify::tell(
            conn,
            &from,
            user_id,
            notify::Kind::Mention,
            &about(&conversation),
        )? {
            unseen.push(user_id);
        }
    }
    Ok(Added {
        conversation,
        message_id,
        unseen,
        requests,
        answered,
    })
}

/// What adding a reply or a note did.
pub struct Added {
    pub conversation: Conversation,
    pub message_id: i64,
    /// Users the note mentions or asks who cannot see the conversation
    /// (nobody was told); always empty for a reply.
    pub unseen: Vec<i64>,
    /// The requests the note made (one per person asked).
    pub requests: Vec<i64>,
    /// The author's requests the note answered.
    pub answered: Vec<i64>,
}

/// Adds a public reply and queues its email (with the files) to the customer.
/// Refused when the customer has no email address.
pub fn add_reply(
    conn: &mut DbConn,
    ctx: &Ctx,
    author: &Author,
    conversation_id: i64,
    written: &Written,
) -> Result<Added, Refusal> {
    policy::ensure(author.actor, Action::Use(Flag::ConversationsReply))?;
    let conversation = visible(conn, author.actor, conversation_id)?;
    written.check()?;
    let customer =
        crate::models::customer::find(conn, conversation.customer_id)?.ok_or(Refusal::NotFound)?;
    let Some(recipient) = customer.email.as_deref() else {
        let mut fields = Fields::default();
        fields.add("body", Problem::CustomerWithoutEmail);
        return Err(Refusal::Fields(fields));
    };
    let conversation = &conversation;
    let author_id = author.actor.user_id;
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
            kind: MessageKind::Reply,
            author_user_id: Some(author_id),
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
    if let Some(to) = conversation.assignee_id.filter(|&to| to != author_id) {
        notify::tell(
            conn,
            &sender(ctx, author),
            to,
            notify::Kind::Reply,
            &about(conversation),
        )?;
    }
    Ok(Added {
        conversation: conversation.clone(),
        message_id,
        unseen: Vec::new(),
        requests: Vec::new(),
        answered: Vec::new(),
    })
}

/// Adds a customer's message (by email) to a conversation, reopens it if it
/// was done, pending or snoozed, and tells the assignee. A blocked
/// customer's message goes to Spam with its conversation, and nobody is
/// told; anyone else's brings the conversation back from Trash or Spam.
pub fn add_customer_message(
    conn: &mut DbConn,
    ctx: &Ctx,
    conversation: &Conversation,
    customer: (i64, &str),
    written: &Written,
) -> QueryResult<()> {
    let message_id = conversation::insert_message(
        conn,
        &NewMessage {
            conversation_id: conversation.id,
            kind: MessageKind::Customer,
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
    conversation::touch(conn, conversation.id, ctx.now)?;
    if file_as_spam_if_blocked(conn, conversation.id, customer.0, ctx.now)? {
        return Ok(());
    }
    if conversation.folder.is_some() {
        conversation::move_to(conn, &Reader::anyone(), &[conversation.id], None, ctx.now)?;
    }
    conversation::reopen(conn, conversation.id, ctx.now)?;
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

/// Moves the conversation to Spam if its customer is blocked; says whether.
pub fn file_as_spam_if_blocked(
    conn: &mut DbConn,
    conversation_id: i64,
    customer_id: i64,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    if !crate::models::customer::is_blocked(conn, customer_id)? {
        return Ok(false);
    }
    let spam = Some(conversation::Folder::Spam);
    conversation::move_to(conn, &Reader::anyone(), &[conversation_id], spam, now)?;
    Ok(true)
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
