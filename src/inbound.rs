//! Taking in one email, whichever way it arrived (`confer mailgate` or
//! `POST /inbound/email`): a team member's answer to a notification becomes
//! a private note; a customer's mail threads into its conversation (by
//! Message-ID, then by the `[#123]` token in the subject) or opens a new
//! one; machine-sent mail is ignored. Every mail leaves a row in the inbound
//! log, and refused team replies get a short bounce saying why.

use chrono::Duration;
use diesel::QueryResult;

use crate::db::DbConn;
use crate::i18n::{Lang, Tr};
use crate::mail::parse::InboundMail;
use crate::mail::reply_address::{ReplySigner, bare_address};
use crate::models::attachment::{self, NewFile};
use crate::models::conversation::{self, Conversation};
use crate::models::customer;
use crate::models::inbound_log::{self, NewEntry};
use crate::models::outbox::{self, Mail};
use crate::models::rate;
use crate::models::user::{AccessState, User};
use crate::services::messages::{self, Author, Written};
use crate::services::{Ctx as Context, Refusal, conversations, customers};

/// Mails one sender may send per hour before the rest is ignored.
pub const PER_SENDER_PER_HOUR: i64 = 30;
/// Bounces one address gets per hour at most (never a mail storm).
const BOUNCES_PER_HOUR: i64 = 5;

/// What became of a mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// `created`, `appended`, `noted`, `ignored` or `rejected`.
    pub outcome: &'static str,
    pub conversation_id: Option<i64>,
    /// Why, in words, for the log.
    pub detail: String,
}

impl Receipt {
    fn new(outcome: &'static str, conversation_id: Option<i64>, detail: impl Into<String>) -> Self {
        Self {
            outcome,
            conversation_id,
            detail: detail.into(),
        }
    }
}

/// Takes in one parsed mail; call inside a write transaction. `envelope`
/// is the recipient the MTA delivered to, when it says.
pub fn receive(
    conn: &mut DbConn,
    ctx: &Context,
    mail: &InboundMail,
    envelope: Option<&str>,
) -> QueryResult<Receipt> {
    let receipt = decide(conn, ctx, mail, envelope)?;
    inbound_log::record(
        conn,
        &NewEntry {
            sender: mail.from_email.as_deref(),
            subject: &mail.subject,
            message_id: mail.message_id.as_deref(),
            outcome: receipt.outcome,
            detail: &receipt.detail,
            conversation_id: receipt.conversation_id,
        },
        ctx.now,
    )?;
    tracing::info!(
        outcome = receipt.outcome,
        detail = %receipt.detail,
        conversation = ?receipt.conversation_id,
        sender = ?mail.from_email,
        "inbound mail"
    );
    Ok(receipt)
}

fn decide(
    conn: &mut DbConn,
    ctx: &Context,
    mail: &InboundMail,
    envelope: Option<&str>,
) -> QueryResult<Receipt> {
    if let Some(id) = &mail.message_id
        && let Some(conversation) = inbound_log::already_taken(conn, id)?
    {
        return Ok(Receipt::new(
            "ignored",
            Some(conversation),
            format!("duplicate: {id} was already taken in"),
        ));
    }
    if let Some(reason) = &mail.automated {
        return Ok(Receipt::new(
            "ignored",
            None,
            format!("automatic mail ({reason})"),
        ));
    }
    let Some(sender) = mail.from_email.as_deref() else {
        return Ok(Receipt::new("rejected", None, "no sender address"));
    };
    if sender == bare_address(&ctx.config.mail_from).to_lowercase() {
        return Ok(Receipt::new("ignored", None, "sent by Confer itself"));
    }
    let mut recipients = mail.recipients.clone();
    recipients.extend(envelope.map(str::to_lowercase));
    if let Some(token) = ReplySigner::find_token(&recipients) {
        return team_reply(conn, ctx, mail, sender, &token);
    }
    if !rate::allow(
        conn,
        &format!("inbound:{sender}"),
        PER_SENDER_PER_HOUR,
        Duration::hours(1),
        ctx.now,
    )? {
        return Ok(Receipt::new(
            "ignored",
            None,
            format!("more than {PER_SENDER_PER_HOUR} mails from {sender} in an hour"),
        ));
    }
    // A collaborator writing as if they were a customer (into a customer's
    // conversation by its subject, say) never reaches it: refused, counted
    // and told why.
    if let Some(user) = User::find_by_email(conn, sender)?
        .filter(|u| u.active && u.user_type() == crate::policy::UserType::Collaborator)
    {
        crate::models::refused::record(conn, user.id, "email", "customer mail", ctx.now)?;
        return refuse(conn, ctx, mail, sender, Some(&user), "collaborator");
    }
    customer_mail(conn, ctx, mail, sender)
}

fn files_of(mail: &InboundMail) -> (Vec<NewFile<'_>>, Vec<&str>) {
    let mut kept = Vec::new();
    let mut dropped: Vec<&str> = mail.dropped_files.iter().map(String::as_str).collect();
    let mut total = 0;
    for file in &mail.files {
        total += file.data.len();
        if total > attachment::MAX_TOTAL_BYTES {
            dropped.push(&file.filename);
            continue;
        }
        kept.push(NewFile {
            filename: &file.filename,
            declared_type: &file.declared_type,
            content_id: file.content_id.as_deref(),
            inline: file.inline,
            data: &file.data,
        });
    }
    (kept, dropped)
}

/// The text kept for the timeline: the new text, and a line per dropped file.
fn body_of(mail: &InboundMail, dropped: &[&str]) -> String {
    let mut body = mail.body.clone();
    for name in dropped {
        body.push_str(&format!(
            "\n\n[Attachment not kept, larger than {} MB: {name}]",
            attachment::MAX_BYTES / (1024 * 1024)
        ));
    }
    body
}

fn customer_mail(
    conn: &mut DbConn,
    ctx: &Context,
    mail: &InboundMail,
    sender: &str,
) -> QueryResult<Receipt> {
    let (customer_id, stored_name) =
        match customers::from_email(conn, mail.from_name.as_deref(), sender, ctx.now) {
            Ok(found) => found,
            Err(Refusal::Database(e)) => return Err(e),
            Err(_) => return Err(diesel::result::Error::NotFound),
        };
    let name = mail.from_name.clone().unwrap_or(stored_name);
    let (files, dropped) = files_of(mail);
    let body = body_of(mail, &dropped);
    let written = Written {
        body: &body,
        source: "email",
        quoted: mail.quoted.as_deref(),
        email_message_id: mail.message_id.as_deref(),
        files: &files,
        asking: Default::default(),
        answers: Default::default(),
    };
    if let Some((conversation, rule)) = thread(conn, mail, sender)? {
        messages::add_customer_message(conn, ctx, &conversation, (customer_id, &name), &written)?;
        return Ok(Receipt::new(
            "appended",
            Some(conversation.id),
            format!("threaded by {rule}"),
        ));
    }
    let subject = if mail.subject.is_empty() {
        "(no subject)"
    } else {
        &mail.subject
    };
    let id =
        match conversations::open_from_email(conn, ctx, (customer_id, &name), subject, &written) {
            Ok(id) => id,
            Err(Refusal::Database(e)) => return Err(e),
            Err(_) => return Err(diesel::result::Error::NotFound),
        };
    Ok(Receipt::new("created", Some(id), "new conversation"))
}

/// The conversation a customer's mail continues, and by which rule.
fn thread(
    conn: &mut DbConn,
    mail: &InboundMail,
    sender: &str,
) -> QueryResult<Option<(Conversation, &'static str)>> {
    if let Some(id) = conversation::find_by_email_ids(conn, &mail.thread_ids)?
        && let Some(found) = conversation::find(conn, id)?
    {
        return Ok(Some((found, "In-Reply-To/References")));
    }
    // "[#123]" in the subject counts only for that conversation's customer:
    // nobody else can write into a conversation by guessing its number.
    if let Some(id) = subject_token(&mail.subject)
        && let Some(found) = conversation::find(conn, id)?
        && let Some(owner) = customer::find(conn, found.customer_id)?
        && owner.email.as_deref().map(str::to_lowercase).as_deref() == Some(sender)
    {
        return Ok(Some((found, "the [#id] in the subject")));
    }
    Ok(None)
}

/// The conversation number of a `[#123]` in a subject.
pub fn subject_token(subject: &str) -> Option<i64> {
    let start = subject.rfind("[#")?;
    let rest = &subject[start + 2..];
    let end = rest.find(']')?;
    rest[..end].trim().parse().ok()
}

/// A team member answered a notification: a private note as them, or a
/// refusal (logged, and bounced back with the reason).
fn team_reply(
    conn: &mut DbConn,
    ctx: &Context,
    mail: &InboundMail,
    sender: &str,
    token: &str,
) -> QueryResult<Receipt> {
    let today = ctx.org.today(ctx.now);
    let (user_id, conversation_id) =
        match crate::mail::reply_address::ReplySigner::from_config(ctx.config).verify(token, today)
        {
            Ok(ids) => ids,
            Err(refusal) => {
                return refuse(conn, ctx, mail, sender, None, refusal.key());
            }
        };
    let Some((user, _, actor)) = User::load_actor(conn, user_id)? else {
        return refuse(conn, ctx, mail, sender, None, "unknown_user");
    };
    if user.email.to_lowercase() != sender {
        // Told to the sender of the forged mail, not to the user.
        return refuse(conn, ctx, mail, sender, None, "wrong_sender");
    }
    if user.access_state(today) != AccessState::Allowed {
        return refuse(conn, ctx, mail, sender, Some(&user), "inactive");
    }
    let (files, dropped) = files_of(mail);
    let body = body_of(mail, &dropped);
    let author = Author {
        actor: &actor,
        name: &user.name,
    };
    // Always a note — whoever the user is, an email never reaches the customer.
    let written = Written {
        body: &body,
        source: "email",
        quoted: mail.quoted.as_deref(),
        email_message_id: None,
        files: &files,
        asking: Default::default(),
        answers: Default::default(),
    };
    let conversation = match messages::add_note(conn, ctx, &author, conversation_id, &written) {
        Ok(added) => added.conversation,
        Err(Refusal::Forbidden(_) | Refusal::Rule(_) | Refusal::Fields(_)) => {
            return refuse(conn, ctx, mail, sender, Some(&user), "not_allowed");
        }
        Err(Refusal::NotFound) => {
            return refuse(conn, ctx, mail, sender, Some(&user), "not_visible");
        }
        Err(Refusal::Database(e)) => return Err(e),
    };
    Ok(Receipt::new(
        "noted",
        Some(conversation.id),
        format!("note by {} ({})", user.name, user.email),
    ))
}

/// Logs a refused team reply and tells the sender why, at most a few times
/// an hour per address.
fn refuse(
    conn: &mut DbConn,
    ctx: &Context,
    mail: &InboundMail,
    sender: &str,
    user: Option<&User>,
    reason: &str,
) -> QueryResult<Receipt> {
    let lang = user
        .map(|u| u.lang(ctx.org))
        .or_else(|| Lang::parse(&ctx.org.default_language))
        .unwrap_or(Lang::En);
    let t = Tr::new(lang);
    let why = t.get(&format!("email.bounce.reason.{reason}"));
    if rate::allow(
        conn,
        &format!("bounce:{sender}"),
        BOUNCES_PER_HOUR,
        Duration::hours(1),
        ctx.now,
    )? {
        let body = [
            t.get("email.bounce.body").to_string(),
            String::new(),
            why.to_string(),
            String::new(),
            t.get("email.signature").to_string(),
        ]
        .join("\n");
        outbox::enqueue(
            conn,
            &Mail {
                kind: "bounce",
                recipient: sender,
                subject: &t.fmt("email.bounce.subject", &[("subject", &mail.subject)]),
                body_text: &body,
                ..Mail::default()
            },
            ctx.now,
        )?;
    }
    Ok(Receipt::new(
        "rejected",
        None,
        format!("reply by email refused: {reason}"),
    ))
}
