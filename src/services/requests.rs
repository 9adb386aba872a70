//! Requests: a question asked of one person in a note (`@?Name`, or every
//! mention of a note marked "ask", or by id through the API), with an
//! optional due time. Only people who can see the conversation are asked;
//! whoever may write notes may ask (`policy::may_ask`). A request stays
//! open until the person asked answers it — with the first note they write
//! in the conversation after it, or one they pick — declines it with a
//! reason, or the asker withdraws it; once past due, the worker reminds
//! them once. Answering never changes the conversation's properties. Each
//! change tells the other side and queues its webhook (`request.created`,
//! `request.answered`, `request.declined`) in the caller's transaction.

use chrono::NaiveDateTime;
use diesel::QueryResult;
use serde_json::json;

use super::messages::{self, Added, Author, Written, about};
use super::{Ctx, Fields, Problem, Refusal};
use crate::config::Config;
use crate::db::DbConn;
use crate::models::conversation::Conversation;
use crate::models::org::OrgSettings;
use crate::models::request::{self, Closing, NewRequest, Request, State};
use crate::models::webhook;
use crate::notify;
use crate::policy::{self, Actor};

/// The longest reason for declining.
pub const MAX_REASON_CHARS: usize = 2_000;

/// Whom a note asks besides those it names with `@?`, and by when.
#[derive(Clone, Debug, Default)]
pub struct Asking {
    /// Everyone the note @mentions is asked (the composer's "Ask" box).
    pub mentioned: bool,
    /// Asked by id (the API): each must see the conversation, or nothing
    /// is written.
    pub people: Vec<i64>,
    /// When the answer is wanted.
    pub due_at: Option<NaiveDateTime>,
}

/// Which of the author's open requests in the conversation a note answers.
#[derive(Clone, Debug, Default)]
pub enum Answers {
    /// All of them: a note after a question answers it.
    #[default]
    All,
    /// Only these (none when empty): the composer's choice, or answering
    /// one request from "Asked of you".
    Only(Vec<i64>),
}

const DUE_IN_PAST: Problem = Problem::Rule {
    key: "requests.error.due_past",
    english: "must be a time in the future",
};
const DUE_WITHOUT_QUESTION: Problem = Problem::Rule {
    key: "requests.error.due_alone",
    english: "ask someone (@?Name) to set a due time",
};
const CANNOT_SEE: Problem = Problem::Unknown {
    key: "requests.error.cannot_see",
    english: "no active user who can see this conversation",
};
const CLOSED: Problem = Problem::Taken {
    key: "requests.error.closed",
    english: "the request is no longer open",
};
const NOT_THEIR_NOTE: Problem = Problem::Unknown {
    key: "requests.error.not_their_note",
    english: "no note of the person asked, written after the question",
};

/// The problems of asking `asked` (ids, the author left out) with this
/// note, before anything is written.
pub(super) fn check_asking(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    conversation: &Conversation,
    asking: &Asking,
    asked: &[i64],
) -> Result<(), Refusal> {
    if !asked.is_empty() && !policy::may_ask(actor) {
        return Err(Refusal::Rule("requests.error.may_not_ask"));
    }
    let mut fields = Fields::default();
    if let Some(due) = asking.due_at {
        if asked.is_empty() {
            fields.add("due_at", DUE_WITHOUT_QUESTION);
        } else if due <= ctx.now {
            fields.add("due_at", DUE_IN_PAST);
        }
    }
    for &id in &asking.people {
        if id == actor.user_id || !sees(conn, ctx, id, conversation)? {
            fields.add("asked_of", CANNOT_SEE);
        }
    }
    super::check(fields)
}

fn sees(conn: &mut DbConn, ctx: &Ctx, user_id: i64, c: &Conversation) -> QueryResult<bool> {
    Ok(notify::can_see(conn, ctx.org, user_id, c.placement(), ctx.now)?.is_some())
}

fn sender<'a>(ctx: &'a Ctx, name: &'a str, actor_id: Option<i64>) -> notify::Sender<'a> {
    notify::Sender {
        org: ctx.org,
        config: ctx.config,
        actor_id,
        actor_name: name,
        now: ctx.now,
    }
}

fn payload(r: &Request) -> serde_json::Value {
    json!({
        "request_id": r.id,
        "conversation_id": r.conversation_id,
        "question_message_id": r.question_message_id,
        "asked_by": r.asked_by,
        "asked_of": r.asked_of,
        "state": r.state,
        "due_at": r.due_at.map(|at| at.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
        "answer_message_id": r.answer_message_id,
        "decline_reason": r.decline_reason,
    })
}

/// The note that asks, and when the answer is wanted.
pub(super) struct Question<'a> {
    pub message_id: i64,
    pub text: &'a str,
    pub due_at: Option<NaiveDateTime>,
}

/// Asks each of `asked` (checked by `check_asking`) the question; returns
/// the requests made and those who cannot see the conversation (not asked,
/// told nothing).
pub(super) fn ask(
    conn: &mut DbConn,
    ctx: &Ctx,
    author: &Author,
    conversation: &Conversation,
    question: &Question,
    asked: &[i64],
) -> QueryResult<(Vec<i64>, Vec<i64>)> {
    let Question {
        message_id,
        text: question,
        due_at,
    } = *question;
    let (mut made, mut unseen) = (Vec::new(), Vec::new());
    let from = sender(ctx, author.name, Some(author.actor.user_id));
    for &to in asked {
        if !sees(conn, ctx, to, conversation)? {
            unseen.push(to);
            continue;
        }
        let id = request::insert(
            conn,
            &NewRequest {
                conversation_id: conversation.id,
                question_message_id: message_id,
                asked_by: author.actor.user_id,
                asked_of: to,
                due_at,
            },
            ctx.now,
        )?;
        let details = notify::Details {
            text: Some(question),
            due: due_at,
            reason: None,
        };
        notify::tell_with(
            conn,
            &from,
            to,
            notify::Kind::Request,
            &about(conversation),
            &details,
        )?;
        if let Some(made_request) = request::find(conn, id)? {
            webhook::enqueue(conn, "request.created", payload(&made_request), ctx.now)?;
        }
        made.push(id);
    }
    Ok((made, unseen))
}

/// Answers the author's open requests in the conversation that `answers`
/// names with the note `message_id`; returns their ids.
pub(super) fn answer_open(
    conn: &mut DbConn,
    ctx: &Ctx,
    author: &Author,
    conversation: &Conversation,
    message_id: i64,
    answers: &Answers,
    answer: &str,
) -> QueryResult<Vec<i64>> {
    let mut answered = Vec::new();
    for open in request::open_of_in(conn, author.actor.user_id, conversation.id)? {
        if let Answers::Only(ids) = answers
            && !ids.contains(&open.id)
        {
            continue;
        }
        if close(
            conn,
            ctx,
            author,
            conversation,
            &open,
            &Closing::Answered { message_id },
            answer,
        )? {
            answered.push(open.id);
        }
    }
    Ok(answered)
}

/// Ends `open` as `closing` says and tells the asker (answered, declined);
/// false when it was no longer open.
fn close(
    conn: &mut DbConn,
    ctx: &Ctx,
    author: &Author,
    conversation: &Conversation,
    open: &Request,
    closing: &Closing,
    text: &str,
) -> QueryResult<bool> {
    if !request::close(conn, open.id, closing, ctx.now)? {
        return Ok(false);
    }
    let (kind, event, details) = match closing {
        Closing::Answered { .. } => (
            notify::Kind::RequestAnswered,
            "request.answered",
            notify::Details {
                text: Some(text),
                ..Default::default()
            },
        ),
        Closing::Declined { reason } => (
            notify::Kind::RequestDeclined,
            "request.declined",
            notify::Details {
                reason: Some(reason),
                ..Default::default()
            },
        ),
        Closing::Withdrawn => return Ok(true),
    };
    if let Some(asker) = open.asked_by.filter(|&id| id != author.actor.user_id) {
        let from = sender(ctx, author.name, Some(author.actor.user_id));
        notify::tell_with(conn, &from, asker, kind, &about(conversation), &details)?;
    }
    if let Some(closed) = request::find(conn, open.id)? {
        webhook::enqueue(conn, event, payload(&closed), ctx.now)?;
    }
    Ok(true)
}

/// The request and its conversation, when the actor can see it.
fn load(
    conn: &mut DbConn,
    actor: &Actor,
    request_id: i64,
) -> Result<(Request, Conversation), Refusal> {
    let found = request::find(conn, request_id)?.ok_or(Refusal::NotFound)?;
    let conversation = super::conversations::visible(conn, actor, found.conversation_id)?;
    Ok((found, conversation))
}

/// The request, open and asked of the actor.
fn open_for_answer(
    conn: &mut DbConn,
    actor: &Actor,
    request_id: i64,
) -> Result<(Request, Conversation), Refusal> {
    let (found, conversation) = load(conn, actor, request_id)?;
    if !policy::may_answer(actor, found.asked_of) {
        return Err(Refusal::Rule("requests.error.not_asked"));
    }
    if found.state != State::Open {
        let mut fields = Fields::default();
        fields.add("state", CLOSED);
        return Err(Refusal::Fields(fields));
    }
    Ok((found, conversation))
}

/// Answers one request with a new note (from "Asked of you" or the API);
/// the note answers only this request.
pub fn answer(
    conn: &mut DbConn,
    ctx: &Ctx,
    author: &Author,
    request_id: i64,
    written: &Written,
) -> Result<Added, Refusal> {
    let (found, conversation) = open_for_answer(conn, author.actor, request_id)?;
    let written = Written {
        answers: Answers::Only(vec![found.id]),
        asking: Asking::default(),
        ..written.clone()
    };
    messages::add_note(conn, ctx, author, conversation.id, &written)
}

/// Makes one of the asked person's notes in the conversation, written
/// since the question, the answer: answers an open request, or points an
/// answered one at a better note.
pub fn pick_answer(
    conn: &mut DbConn,
    ctx: &Ctx,
    author: &Author,
    request_id: i64,
    message_id: i64,
) -> Result<Request, Refusal> {
    let (found, conversation) = load(conn, author.actor, request_id)?;
    if !policy::may_answer(author.actor, found.asked_of) {
        return Err(Refusal::Rule("requests.error.not_asked"));
    }
    let notes = request::notes_after(
        conn,
        found.asked_of,
        conversation.id,
        found.question_message_id,
    )?;
    let Some((_, text)) = notes.iter().find(|(id, _)| *id == message_id) else {
        let mut fields = Fields::default();
        fields.add("message_id", NOT_THEIR_NOTE);
        return Err(Refusal::Fields(fields));
    };
    match found.state {
        State::Open => {
            close(
                conn,
                ctx,
                author,
                &conversation,
                &found,
                &Closing::Answered { message_id },
                text,
            )?;
        }
        State::Answered => request::repoint_answer(conn, found.id, message_id)?,
        State::Declined | State::Withdrawn => {
            let mut fields = Fields::default();
            fields.add("state", CLOSED);
            return Err(Refusal::Fields(fields));
        }
    }
    request::find(conn, found.id)?.ok_or(Refusal::NotFound)
}

/// Declines an open request asked of the author, with a reason the asker
/// is told.
pub fn decline(
    conn: &mut DbConn,
    ctx: &Ctx,
    author: &Author,
    request_id: i64,
    reason: &str,
) -> Result<Request, Refusal> {
    let (found, conversation) = open_for_answer(conn, author.actor, request_id)?;
    let reason = reason.trim();
    let mut fields = Fields::default();
    fields.text("reason", reason, MAX_REASON_CHARS);
    super::check(fields)?;
    close(
        conn,
        ctx,
        author,
        &conversation,
        &found,
        &Closing::Declined { reason },
        "",
    )?;
    request::find(conn, found.id)?.ok_or(Refusal::NotFound)
}

/// Withdraws an open request (its asker, or someone who may update
/// conversations).
pub fn withdraw(
    conn: &mut DbConn,
    ctx: &Ctx,
    author: &Author,
    request_id: i64,
) -> Result<Request, Refusal> {
    let (found, conversation) = load(conn, author.actor, request_id)?;
    if !policy::may_withdraw(author.actor, found.asked_by) {
        return Err(Refusal::Rule("requests.error.not_asker"));
    }
    if found.state != State::Open {
        let mut fields = Fields::default();
        fields.add("state", CLOSED);
        return Err(Refusal::Fields(fields));
    }
    close(
        conn,
        ctx,
        author,
        &conversation,
        &found,
        &Closing::Withdrawn,
        "",
    )?;
    request::find(conn, found.id)?.ok_or(Refusal::NotFound)
}

/// Reminds the people asked of open requests past their due time, once
/// each (the worker); returns how many were reminded.
pub fn remind_overdue(
    conn: &mut DbConn,
    org: &OrgSettings,
    config: &Config,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let ctx = Ctx { org, config, now };
    let mut reminded = 0;
    for due in request::due_unreminded(conn, now)? {
        crate::db::write_transaction(conn, |conn| {
            // Another node may have reminded them already.
            if !request::mark_reminded(conn, due.id, now)? {
                return Ok::<_, diesel::result::Error>(());
            }
            let Some(conversation) = crate::models::conversation::find(conn, due.conversation_id)?
            else {
                return Ok(());
            };
            let from = sender(&ctx, "Confer", None);
            let details = notify::Details {
                due: due.due_at,
                ..Default::default()
            };
            notify::tell_with(
                conn,
                &from,
                due.asked_of,
                notify::Kind::RequestDue,
                &about(&conversation),
                &details,
            )?;
            reminded += 1;
            Ok(())
        })?;
    }
    Ok(reminded)
}
