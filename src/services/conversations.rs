//! Conversations: opening one from any channel (an agent in the browser or
//! the API, the contact form, an email), changing its properties, bulk
//! actions and waking snoozed ones. Agents' writes ask `policy` and see only
//! what their scope shows; a customer's writes need no actor.

use chrono::NaiveDateTime;

use serde_json::json;

use super::messages::{self, Written};
use super::{By, Ctx, Fields, Problem, Refusal};
use crate::db::DbConn;
use crate::models::audit::{self, Event};
use crate::models::conversation::{
    self, Bulk, Channel, Conversation, Folder, Priority, Properties, Reader, Status,
};
use crate::models::customer;
use crate::models::people;
use crate::models::team::Team;
use crate::models::webhook;
use crate::notify;
use crate::policy::{self, Action, Actor, ConversationScope, Flag};

/// The longest subject anyone may give.
pub const MAX_SUBJECT_CHARS: usize = 200;

/// The conversation if the actor can see it; `NotFound` otherwise, the same
/// answer as for one that does not exist.
pub fn visible(conn: &mut DbConn, actor: &Actor, id: i64) -> Result<Conversation, Refusal> {
    let (scope, _) = policy::conversation_scope(actor);
    let reader = Reader {
        scope: &scope,
        user_id: actor.user_id,
        team_ids: &actor.team_ids,
    };
    conversation::find_visible(conn, &reader, id)?.ok_or(Refusal::NotFound)
}

/// A conversation an agent opens for a customer (a call, a chat, a
/// forwarded mail, the API): the customer's words start the thread.
pub struct NewConversation<'a> {
    pub customer_email: &'a str,
    pub customer_name: Option<&'a str>,
    pub subject: &'a str,
    pub message: &'a str,
    pub team_id: Option<i64>,
    pub assignee_id: Option<i64>,
    /// Email (the browser's "New conversation") or the API.
    pub channel: Channel,
}

/// Opens the conversation; refused with every field problem at once. The
/// fields are named as the API names them (`customer_email`, `team_id`,
/// `assignee_id`, `subject`, `message`).
pub fn open(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    input: &NewConversation,
) -> Result<i64, Refusal> {
    policy::ensure(actor, Action::Use(Flag::ConversationsReply))?;
    if input.assignee_id.is_some() {
        policy::ensure(actor, Action::Use(Flag::ConversationsAssign))?;
    }
    let mut fields = Fields::default();
    fields.email("customer_email", input.customer_email);
    fields.text("subject", input.subject, MAX_SUBJECT_CHARS);
    fields.text("message", input.message, messages::MAX_BODY_CHARS);
    // Team-only users open conversations only where they can see them.
    if let (ConversationScope::Limited(reach), _) = policy::conversation_scope(actor)
        && !input.team_id.is_some_and(|t| reach.teams.contains(&t))
    {
        fields.add("team_id", Problem::OwnTeam);
    }
    check_routing(conn, &mut fields, input.team_id, input.assignee_id)?;
    super::check(fields)?;
    let email = crate::models::user::normalize_email(input.customer_email);
    let (customer, _) =
        customer::find_or_create_by_email(conn, input.customer_name, &email, ctx.now)?;
    let id = conversation::open_from_customer(
        conn,
        customer,
        input.subject.trim(),
        input.message.trim(),
        input.channel,
        ctx.now,
    )?;
    conversation::route(conn, id, input.team_id, input.assignee_id)?;
    Ok(id)
}

/// Adds `UnknownTeam` / `UnknownAssignee` when they name nobody.
fn check_routing(
    conn: &mut DbConn,
    fields: &mut Fields,
    team_id: Option<i64>,
    assignee_id: Option<i64>,
) -> Result<(), Refusal> {
    if let Some(t) = team_id
        && Team::find(conn, t)?.is_none()
    {
        fields.add("team_id", Problem::UnknownTeam);
    }
    if let Some(a) = assignee_id
        && !people::is_assignable(conn, a)?
    {
        fields.add("assignee_id", Problem::UnknownAssignee);
    }
    Ok(())
}

/// What a customer wrote on the public contact form (checked by the form).
pub struct ContactMessage<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub subject: &'a str,
    pub message: &'a str,
}

/// Opens a conversation from the contact form, in the intake team's queue.
pub fn open_from_contact_form(
    conn: &mut DbConn,
    ctx: &Ctx,
    input: &ContactMessage,
) -> Result<i64, Refusal> {
    let email = crate::models::user::normalize_email(input.email);
    let (customer, _) = customer::find_or_create_by_email(conn, Some(input.name), &email, ctx.now)?;
    let id = conversation::open_from_customer(
        conn,
        customer,
        input.subject.trim(),
        input.message.trim(),
        Channel::WebForm,
        ctx.now,
    )?;
    conversation::route(conn, id, ctx.org.intake_team_id, None)?;
    messages::file_as_spam_if_blocked(conn, id, customer, ctx.now)?;
    Ok(id)
}

/// Opens a conversation from a customer's email, in the intake team's
/// queue, with the mail as its first message.
pub fn open_from_email(
    conn: &mut DbConn,
    ctx: &Ctx,
    customer: (i64, &str),
    subject: &str,
    written: &Written,
) -> Result<i64, Refusal> {
    let id = conversation::open_conversation(conn, customer.0, subject, Channel::Email, ctx.now)?;
    conversation::route(conn, id, ctx.org.intake_team_id, None)?;
    let opened = conversation::find(conn, id)?.ok_or(Refusal::NotFound)?;
    messages::add_customer_message(conn, ctx, &opened, customer, written)?;
    Ok(id)
}

/// Property changes; `None` leaves a property as it is (the browser's form
/// sends them all).
#[derive(Clone, Debug, Default)]
pub struct Changes {
    pub status: Option<String>,
    /// UTC; needed when the status becomes `snoozed`. `None` with the
    /// status unchanged keeps the snooze time.
    pub snoozed_until: Option<NaiveDateTime>,
    pub priority: Option<String>,
    /// `Some(None)` unassigns.
    pub assignee_id: Option<Option<i64>>,
    /// `Some(None)` removes the team.
    pub team_id: Option<Option<i64>>,
    /// Replaces the tags.
    pub tags: Option<Vec<String>>,
}

/// Changes a conversation's properties (the update permission; a change of
/// assignee also the assign permission). The new assignee is told, unless
/// they assigned themselves. Fields are named `status`, `snoozed_until`,
/// `priority`, `assignee_id`, `team_id`.
pub fn update_properties(
    conn: &mut DbConn,
    ctx: &Ctx,
    author: &messages::Author,
    id: i64,
    changes: &Changes,
) -> Result<Conversation, Refusal> {
    let actor = author.actor;
    policy::ensure(actor, Action::Use(Flag::ConversationsUpdate))?;
    let c = visible(conn, actor, id)?;
    let assignee = changes.assignee_id.unwrap_or(c.assignee_id);
    let team = changes.team_id.unwrap_or(c.team_id);
    let assignment_changed = assignee != c.assignee_id;
    if assignment_changed {
        policy::ensure(actor, Action::Use(Flag::ConversationsAssign))?;
    }
    let mut fields = Fields::default();
    // A value that cannot be read is a problem; the current one stands in
    // for it, and nothing is written.
    let status = match changes.status.as_deref() {
        None => c.status,
        Some(text) => Status::parse(text).unwrap_or_else(|| {
            fields.add("status", Problem::Status);
            c.status
        }),
    };
    let priority = match changes.priority.as_deref() {
        None => c.priority,
        Some(text) => Priority::parse(text).unwrap_or_else(|| {
            fields.add("priority", Problem::Priority);
            c.priority
        }),
    };
    let snoozed_until = match (status, changes.snoozed_until) {
        (Status::Snoozed, Some(at)) if at > ctx.now => Some(at),
        (Status::Snoozed, None) if changes.status.is_none() => c.snoozed_until,
        (Status::Snoozed, _) => {
            fields.add("snoozed_until", Problem::SnoozeTime);
            None
        }
        _ => None,
    };
    check_routing(conn, &mut fields, team, assignee)?;
    super::check(fields)?;
    let props = Properties {
        status,
        snoozed_until,
        priority,
        assignee_id: assignee,
        team_id: team,
    };
    conversation::update_properties(conn, id, &props, ctx.now)?;
    if let Some(tags) = &changes.tags {
        conversation::set_tags(conn, id, &conversation::parse_tags(&tags.join(",")))?;
    }
    if let Some(to) = assignee.filter(|&to| assignment_changed && to != actor.user_id) {
        let from = notify::Sender {
            org: ctx.org,
            config: ctx.config,
            actor_id: Some(actor.user_id),
            actor_name: author.name,
            now: ctx.now,
        };
        let about = notify::About {
            id,
            subject: &c.subject,
            team_id: team,
            customer_id: c.customer_id,
        };
        notify::tell(conn, &from, to, notify::Kind::Assignment, &about)?;
    }
    conversation::find(conn, id)?.ok_or(Refusal::NotFound)
}

/// Applies a bulk action to those of `ids` the actor can see; returns how
/// many. Assigning needs the assign permission, the others the update
/// permission; an assignee who cannot take conversations is `NotFound`.
pub fn bulk(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    ids: &[i64],
    action: &Bulk,
) -> Result<usize, Refusal> {
    policy::ensure(actor, Action::Use(Flag::ConversationsUpdate))?;
    if let Bulk::Assign(to) = action {
        policy::ensure(actor, Action::Use(Flag::ConversationsAssign))?;
        if let Some(to) = to
            && !people::is_assignable(conn, *to)?
        {
            return Err(Refusal::NotFound);
        }
    }
    let (scope, _) = policy::conversation_scope(actor);
    let reader = Reader {
        scope: &scope,
        user_id: actor.user_id,
        team_ids: &actor.team_ids,
    };
    Ok(conversation::bulk(conn, &reader, ids, action, ctx.now)?)
}

/// Moves those of `ids` the actor can see to Trash or Spam, or back to the
/// workspace (`None`), with the archive permission; returns how many moved.
/// Marking as spam blocks each conversation's customer, so their next mail
/// goes straight to Spam; taking a conversation out of Spam unblocks them.
pub fn move_to(
    conn: &mut DbConn,
    ctx: &Ctx,
    by: &By,
    ids: &[i64],
    folder: Option<Folder>,
) -> Result<usize, Refusal> {
    policy::ensure(by.actor, Action::Use(Flag::ConversationsArchive))?;
    let (scope, _) = policy::conversation_scope(by.actor);
    let reader = Reader {
        scope: &scope,
        user_id: by.actor.user_id,
        team_ids: &by.actor.team_ids,
    };
    let moved = conversation::move_to(conn, &reader, ids, folder, ctx.now)?;
    let action = match folder {
        Some(Folder::Trash) => "conversation.trashed",
        Some(Folder::Spam) => "conversation.marked_spam",
        None => "conversation.restored",
    };
    for m in &moved {
        audit::record(
            conn,
            by.audit,
            Event {
                action,
                target_type: "conversation",
                target_id: Some(m.id),
                target_label: &m.subject,
                before: Some(json!({ "folder": m.from })),
                after: Some(json!({ "folder": folder })),
            },
            ctx.now,
        )?;
        webhook::enqueue(
            conn,
            "conversation.moved",
            json!({ "conversation_id": m.id, "folder": folder, "from": m.from }),
            ctx.now,
        )?;
    }
    // Each customer once, however many of their conversations moved.
    let mut customers: Vec<i64> = moved
        .iter()
        .filter(|m| match folder {
            Some(Folder::Spam) => true,
            Some(Folder::Trash) => false,
            None => m.from == Some(Folder::Spam),
        })
        .map(|m| m.customer_id)
        .collect();
    customers.sort_unstable();
    customers.dedup();
    let blocked = (folder == Some(Folder::Spam)).then_some(ctx.now);
    for customer_id in customers {
        block_customer(conn, ctx, by, customer_id, blocked)?;
    }
    Ok(moved.len())
}

/// Blocks a customer from `since` (their mail goes to Spam), or unblocks
/// them (`None`); audited when it changes anything.
pub(super) fn block_customer(
    conn: &mut DbConn,
    ctx: &Ctx,
    by: &By,
    customer_id: i64,
    since: Option<NaiveDateTime>,
) -> Result<(), Refusal> {
    let Some(found) = customer::find(conn, customer_id)? else {
        return Err(Refusal::NotFound);
    };
    if found.blocked_at.is_some() == since.is_some() {
        return Ok(());
    }
    customer::set_blocked(conn, customer_id, since)?;
    audit::record(
        conn,
        by.audit,
        Event {
            action: if since.is_some() {
                "customer.blocked"
            } else {
                "customer.unblocked"
            },
            target_type: "customer",
            target_id: Some(customer_id),
            target_label: &found.name,
            before: None,
            after: None,
        },
        ctx.now,
    )?;
    Ok(())
}

/// Deletes for good what has been in Trash or Spam for
/// `PURGE_AFTER_DAYS` (the worker); audited when anything went.
pub fn purge_moved(conn: &mut DbConn, now: NaiveDateTime) -> diesel::QueryResult<usize> {
    let cutoff = now - chrono::Duration::days(conversation::PURGE_AFTER_DAYS);
    let purged = conversation::purge_moved_before(conn, cutoff)?;
    if purged > 0 {
        audit::record(
            conn,
            &audit::AuditActor::system(),
            Event {
                action: "conversation.purged",
                target_type: "conversation",
                target_id: None,
                target_label: "",
                before: None,
                after: Some(json!({ "count": purged })),
            },
            now,
        )?;
    }
    Ok(purged)
}

/// Snoozed conversations whose time has come open again (the worker).
pub fn wake_snoozed(conn: &mut DbConn, now: NaiveDateTime) -> diesel::QueryResult<usize> {
    conversation::reopen_snoozed(conn, now)
}
