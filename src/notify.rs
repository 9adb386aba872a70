//! Telling people: an in-app notification and, per their settings, an email
//! in their language — written in the caller's transaction (the email goes
//! through the outbox). Only people who may see the conversation are told.

use chrono::NaiveDateTime;
use diesel::QueryResult;

use crate::db::DbConn;
use crate::i18n::Tr;
use crate::models::notification;
use crate::models::org::OrgSettings;
use crate::models::outbox::{self, Mail};
use crate::models::user::{AccessState, User};
use crate::policy::{self, ConversationScope};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Mention,
    Assignment,
    /// A new reply in a conversation assigned to the recipient.
    Reply,
}

impl Kind {
    fn key(self) -> &'static str {
        match self {
            Self::Mention => "mention",
            Self::Assignment => "assignment",
            Self::Reply => "reply",
        }
    }
}

/// The conversation being talked about.
pub struct About<'a> {
    pub id: i64,
    pub subject: &'a str,
    pub team_id: Option<i64>,
}

/// Whether `user_id` may see a conversation of this team right now.
pub fn can_see(
    conn: &mut DbConn,
    org: &OrgSettings,
    user_id: i64,
    team_id: Option<i64>,
    now: NaiveDateTime,
) -> QueryResult<Option<User>> {
    let Some((user, _, actor)) = User::load_actor(conn, user_id)? else {
        return Ok(None);
    };
    if user.access_state(crate::auth::org_today(org, now)) != AccessState::Allowed {
        return Ok(None);
    }
    let visible = match policy::conversation_scope(&actor).0 {
        ConversationScope::All => true,
        ConversationScope::Teams(teams) => team_id.is_some_and(|t| teams.contains(&t)),
        ConversationScope::None => false,
    };
    Ok(visible.then_some(user))
}

#[allow(clippy::too_many_arguments)]
pub fn send(
    conn: &mut DbConn,
    org: &OrgSettings,
    public_url: &str,
    to: &User,
    kind: Kind,
    actor: (i64, &str),
    about: &About,
    now: NaiveDateTime,
) -> QueryResult<()> {
    notification::create(conn, to.id, kind.key(), about.id, actor.0, now)?;
    let wants_email = match kind {
        Kind::Mention => to.email_on_mention,
        Kind::Assignment => to.email_on_assignment,
        Kind::Reply => to.email_on_reply,
    };
    if !wants_email {
        return Ok(());
    }
    let t = Tr::new(crate::auth::user_lang(to, org));
    let args = [("actor", actor.1), ("subject", about.subject)];
    let subject = t.fmt(&format!("email.{}.subject", kind.key()), &args);
    let link = format!("{public_url}/conversations/{}", about.id);
    let body = [
        t.fmt("email.invitation.greeting", &[("name", &to.name)]),
        String::new(),
        t.fmt(&format!("email.{}.body", kind.key()), &args),
        String::new(),
        link,
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
            recipient: &to.email,
            subject: &subject,
            body_text: &body,
            ..Mail::default()
        },
        now,
    )
    .map(|_| ())
}
