//! Telling people: an in-app notification and, per their settings, an email
//! in their language — written in the caller's transaction (the email goes
//! through the outbox). Only people who may see the conversation are told.

use chrono::NaiveDateTime;
use diesel::QueryResult;

use crate::config::Config;
use crate::db::DbConn;
use crate::i18n::Tr;
use crate::models::notification;
use crate::models::org::OrgSettings;
use crate::models::outbox::{self, Mail};
use crate::models::user::{AccessState, User};
use crate::policy;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Mention,
    Assignment,
    /// A new reply in a conversation assigned to the recipient.
    Reply,
    /// A question asked of the recipient.
    Request,
    /// Their question was answered.
    RequestAnswered,
    /// Their question was declined.
    RequestDeclined,
    /// A question asked of them is past its due time.
    RequestDue,
}

impl Kind {
    fn key(self) -> &'static str {
        match self {
            Self::Mention => "mention",
            Self::Assignment => "assignment",
            Self::Reply => "reply",
            Self::Request => "request",
            Self::RequestAnswered => "request_answered",
            Self::RequestDeclined => "request_declined",
            Self::RequestDue => "request_due",
        }
    }
}

/// What a request's notification quotes: the question or the answer, the
/// due time (shown in the recipient's timezone), a reason for declining.
#[derive(Default)]
pub struct Details<'a> {
    pub text: Option<&'a str>,
    pub due: Option<NaiveDateTime>,
    pub reason: Option<&'a str>,
}

/// The conversation being talked about.
pub struct About<'a> {
    pub id: i64,
    pub subject: &'a str,
    pub team_id: Option<i64>,
    pub customer_id: i64,
}

impl About<'_> {
    fn placement(&self) -> policy::Placement {
        policy::Placement {
            id: self.id,
            team_id: self.team_id,
            customer_id: self.customer_id,
        }
    }
}

/// Who tells, from where, and when.
pub struct Sender<'a> {
    pub org: &'a OrgSettings,
    pub config: &'a Config,
    /// The user who acted; `None` when a customer wrote.
    pub actor_id: Option<i64>,
    pub actor_name: &'a str,
    pub now: NaiveDateTime,
}

/// Tells `to` about the conversation if they may see it; returns whether
/// they were told (a mention of someone who cannot see it tells nobody).
pub fn tell(
    conn: &mut DbConn,
    from: &Sender,
    to: i64,
    kind: Kind,
    about: &About,
) -> QueryResult<bool> {
    tell_with(conn, from, to, kind, about, &Details::default())
}

/// `tell`, quoting a request's details.
pub fn tell_with(
    conn: &mut DbConn,
    from: &Sender,
    to: i64,
    kind: Kind,
    about: &About,
    details: &Details,
) -> QueryResult<bool> {
    match can_see(conn, from.org, to, about.placement(), from.now)? {
        Some(user) => send(conn, from, &user, kind, about, details).map(|()| true),
        None => Ok(false),
    }
}

/// Whether `user_id` may see this conversation right now (and sign in):
/// the user, when they may.
pub fn can_see(
    conn: &mut DbConn,
    org: &OrgSettings,
    user_id: i64,
    placement: policy::Placement,
    now: NaiveDateTime,
) -> QueryResult<Option<User>> {
    let Some((user, _, actor)) = User::load_actor(conn, user_id)? else {
        return Ok(None);
    };
    if user.access_state(org.today(now)) != AccessState::Allowed {
        return Ok(None);
    }
    let visible = policy::conversation_scope(&actor).0.includes(placement);
    Ok(visible.then_some(user))
}

fn send(
    conn: &mut DbConn,
    from: &Sender,
    to: &User,
    kind: Kind,
    about: &About,
    details: &Details,
) -> QueryResult<()> {
    let (org, now) = (from.org, from.now);
    notification::create(conn, to.id, kind.key(), about.id, from.actor_id, now)?;
    // Questions are mentions that wait for an answer: the same setting.
    let wants_email = match kind {
        Kind::Mention
        | Kind::Request
        | Kind::RequestAnswered
        | Kind::RequestDeclined
        | Kind::RequestDue => to.email_on_mention,
        Kind::Assignment => to.email_on_assignment,
        Kind::Reply => to.email_on_reply,
    };
    if !wants_email {
        return Ok(());
    }
    let t = Tr::new(to.lang(org));
    let args = [("actor", from.actor_name), ("subject", about.subject)];
    let subject = t.fmt(&format!("email.{}.subject", kind.key()), &args);
    let link = format!("{}/conversations/{}", from.config.public_url, about.id);
    let mut said = Vec::new();
    if let Some(text) = details.text {
        said.extend(text.lines().map(|line| format!("> {line}")));
        said.push(String::new());
    }
    if let Some(due) = details.due {
        let due = crate::i18n::format_datetime(due, to.tz(org), t);
        said.push(t.fmt("email.request.due", &[("due", &due)]));
        said.push(String::new());
    }
    if let Some(reason) = details.reason {
        said.push(t.fmt("email.request.reason", &[("reason", reason)]));
        said.push(String::new());
    }
    let body = [
        t.fmt("email.invitation.greeting", &[("name", &to.name)]),
        String::new(),
        t.fmt(&format!("email.{}.body", kind.key()), &args),
        String::new(),
    ]
    .into_iter()
    .chain(said)
    .chain([
        link,
        String::new(),
        t.get("email.notification.reply_by_email").to_string(),
        t.get("email.notification.settings").to_string(),
        String::new(),
        t.get("email.signature").to_string(),
    ])
    .collect::<Vec<_>>()
    .join("\n");
    // Answering this email adds a private note as `to` (see mail::reply_address).
    let reply_to = crate::mail::reply_address::ReplySigner::from_config(from.config).address(
        to.id,
        about.id,
        org.today(now),
    );
    outbox::enqueue(
        conn,
        &Mail {
            kind: "notification",
            recipient: &to.email,
            subject: &subject,
            body_text: &body,
            reply_to: Some(&reply_to),
            ..Mail::default()
        },
        now,
    )
    .map(|_| ())
}

/// What happened to a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskKind {
    Assigned,
    Comment,
    Due,
}

impl TaskKind {
    fn key(self) -> &'static str {
        match self {
            Self::Assigned => "task_assigned",
            Self::Comment => "task_comment",
            Self::Due => "task_due",
        }
    }
}

/// Tells `to` about a task if they may see it: an in-app notification and,
/// per their settings (assignment emails for assignments and due dates,
/// reply emails for comments), an email.
pub fn tell_task(
    conn: &mut DbConn,
    from: &Sender,
    to: i64,
    kind: TaskKind,
    task: &crate::models::task::Task,
) -> QueryResult<bool> {
    let Some((user, _, actor)) = User::load_actor(conn, to)? else {
        return Ok(false);
    };
    let (org, now) = (from.org, from.now);
    if user.access_state(org.today(now)) != AccessState::Allowed {
        return Ok(false);
    }
    let reader = crate::models::task::TaskReader::for_actor(user.id, &actor);
    if crate::models::task::find_visible(conn, &reader, task.id)?.is_none() {
        return Ok(false);
    }
    notification::create_for_task(conn, user.id, kind.key(), task.id, from.actor_id, now)?;
    let wants_email = match kind {
        TaskKind::Assigned | TaskKind::Due => user.email_on_assignment,
        TaskKind::Comment => user.email_on_reply,
    };
    if !wants_email {
        return Ok(true);
    }
    let t = Tr::new(user.lang(org));
    let due = task
        .due_on
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    let args = [
        ("actor", from.actor_name),
        ("title", task.title.as_str()),
        ("due", due.as_str()),
    ];
    let body = [
        t.fmt("email.invitation.greeting", &[("name", &user.name)]),
        String::new(),
        t.fmt(&format!("email.{}.body", kind.key()), &args),
        String::new(),
        format!("{}/tasks/{}", from.config.public_url, task.id),
        String::new(),
        t.get("email.notification.settings").to_string(),
        String::new(),
        t.get("email.signature").to_string(),
    ]
    .join("\n");
    outbox::enqueue(
        conn,
        &Mail {
            kind: "notification",
            recipient: &user.email,
            subject: &t.fmt(&format!("email.{}.subject", kind.key()), &args),
            body_text: &body,
            ..Mail::default()
        },
        now,
    )?;
    Ok(true)
}
