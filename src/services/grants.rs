//! Grants: who holds `collaborators.grant` lets an active collaborator see
//! one conversation they can see themselves, or every conversation of its
//! customer, until a day (default 14 days on, at most 90). A grant widens
//! only what the collaborator sees; granting the same again moves its end.
//! Revoking ends it at once; the worker ends it when its day has passed.
//! Every grant, revocation and expiry is audited.

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::json;

use super::{By, Ctx, Fields, Problem, Refusal};
use crate::db::DbConn;
use crate::models::audit::{self, AuditActor, Event};
use crate::models::conversation::{self, Reader};
use crate::models::grant::{self, AccessGrant, Target};
use crate::models::user::{AccessState, User};
use crate::policy::{self, Action, Flag, UserType};

/// How long a grant lasts unless a day is chosen.
pub const DEFAULT_DAYS: i64 = 14;
/// The longest a grant may last.
pub const MAX_DAYS: i64 = 90;

/// What to grant: to whom, this conversation or its customer's, until when
/// (the last day of access, in the organisation's timezone).
pub struct GrantInput {
    pub user_id: Option<i64>,
    pub whole_customer: bool,
    pub until: Until,
}

/// The last day of a grant, as asked.
pub enum Until {
    /// None given: `DEFAULT_DAYS` on.
    Default,
    Day(NaiveDate),
    /// Something that is no date.
    NotADate,
}

impl Until {
    /// `YYYY-MM-DD`, or nothing for the default.
    pub fn parse(text: &str) -> Self {
        match text.trim() {
            "" => Self::Default,
            text => NaiveDate::parse_from_str(text, "%Y-%m-%d").map_or(Self::NotADate, Self::Day),
        }
    }
}

/// The last day asked for, when it is one a grant may have: from today to
/// `MAX_DAYS` on (`DEFAULT_DAYS` on when none was given).
fn last_day(ctx: &Ctx, until: &Until) -> Option<NaiveDate> {
    let today = ctx.org.today(ctx.now);
    match until {
        Until::Default => Some(today + chrono::Duration::days(DEFAULT_DAYS)),
        Until::Day(day) => Some(*day),
        Until::NotADate => None,
    }
    .filter(|&day| day >= today && day <= today + chrono::Duration::days(MAX_DAYS))
}

const UNTIL_PROBLEM: Problem = Problem::Rule {
    key: "grants.error.until",
    english: "must be a day from today to 90 days on",
};

/// The instant a grant whose last day is `until` ends: the next midnight in
/// the organisation's timezone, as UTC.
fn end_of(ctx: &Ctx, until: NaiveDate) -> NaiveDateTime {
    use chrono::TimeZone;
    let next = until
        .succ_opt()
        .unwrap_or(until)
        .and_time(chrono::NaiveTime::MIN);
    ctx.org
        .tz()
        .from_local_datetime(&next)
        .earliest()
        .map(|at| at.naive_utc())
        .unwrap_or(next)
}

/// The conversation `by` gives or revokes access on: they hold the flag
/// and see it themselves.
fn granting_on(
    conn: &mut DbConn,
    by: &By,
    conversation_id: i64,
) -> Result<conversation::Conversation, Refusal> {
    policy::ensure(by.actor, Action::Use(Flag::CollaboratorsGrant))?;
    let (scope, _) = policy::conversation_scope(by.actor);
    let reader = Reader {
        scope: &scope,
        user_id: by.actor.user_id,
        team_ids: &by.actor.team_ids,
    };
    conversation::find_visible(conn, &reader, conversation_id)?.ok_or(Refusal::NotFound)
}

/// Grants access on `conversation_id` (which `by` must see); returns the
/// grant's id (an existing grant of the same target, extended).
pub fn grant(
    conn: &mut DbConn,
    ctx: &Ctx,
    by: &By,
    conversation_id: i64,
    input: &GrantInput,
) -> Result<i64, Refusal> {
    let conversation = granting_on(conn, by, conversation_id)?;
    let mut fields = Fields::default();
    let grantee = match input.user_id {
        Some(id) => User::find(conn, id)?.filter(|u| {
            u.user_type() == UserType::Collaborator
                && u.active
                && !matches!(
                    u.window_state(ctx.org.today(ctx.now)),
                    AccessState::WindowEnded(_)
                )
        }),
        None => None,
    };
    if grantee.is_none() {
        fields.add(
            "user_id",
            Problem::Unknown {
                key: "grants.error.collaborator",
                english: "must be an active collaborator",
            },
        );
    }
    let until = last_day(ctx, &input.until);
    if until.is_none() {
        fields.add("until", UNTIL_PROBLEM);
    }
    super::check(fields)?;
    let (Some(grantee), Some(until)) = (grantee, until) else {
        return Err(Refusal::NotFound);
    };
    let target = match input.whole_customer {
        true => Target::Customer(conversation.customer_id),
        false => Target::Conversation(conversation.id),
    };
    let expires_at = end_of(ctx, until);
    let label = grant::target_label(conn, target)?;
    let (id, action) = match grant::in_force(conn, grantee.id, target)? {
        Some(existing) => {
            grant::extend(conn, existing.id, expires_at)?;
            (existing.id, "grant.extended")
        }
        None => (
            grant::insert(
                conn,
                grantee.id,
                target,
                Some(by.actor.user_id),
                expires_at,
                ctx.now,
            )?,
            "grant.created",
        ),
    };
    record(
        conn,
        by.audit,
        action,
        &grantee,
        target,
        &label,
        json!({ "until": until.to_string() }),
        ctx.now,
    )?;
    Ok(id)
}

/// Ends a grant in force at once. Who may grant may revoke, on a
/// conversation they see that the grant opens.
pub fn revoke(
    conn: &mut DbConn,
    ctx: &Ctx,
    by: &By,
    conversation_id: i64,
    grant_id: i64,
) -> Result<(), Refusal> {
    let conversation = granting_on(conn, by, conversation_id)?;
    let found = grant::find(conn, grant_id)?
        .filter(|g| g.ended_at.is_none())
        .filter(|g| {
            g.conversation_id == Some(conversation.id)
                || g.customer_id == Some(conversation.customer_id)
        })
        .ok_or(Refusal::NotFound)?;
    end(conn, by.audit, &found, "revoked", ctx.now)?;
    Ok(())
}

/// Ends every grant whose day has passed (the worker; safe on several
/// nodes at once: a grant is ended, and audited, once).
pub fn end_expired(conn: &mut DbConn, now: NaiveDateTime) -> diesel::QueryResult<usize> {
    let mut ended = 0;
    for found in grant::expired(conn, now)? {
        let done = crate::db::write_transaction(conn, |conn| {
            end(conn, &AuditActor::system(), &found, "expired", now)
        })?;
        ended += usize::from(done);
    }
    Ok(ended)
}

fn end(
    conn: &mut DbConn,
    audit_actor: &AuditActor,
    found: &AccessGrant,
    reason: &str,
    now: NaiveDateTime,
) -> diesel::QueryResult<bool> {
    if !grant::end(conn, found.id, reason, now)? {
        return Ok(false);
    }
    let Some(grantee) = User::find(conn, found.user_id)? else {
        return Ok(true);
    };
    let target = found.target();
    let label = grant::target_label(conn, target)?;
    let action = match reason {
        "expired" => "grant.expired",
        _ => "grant.revoked",
    };
    record(
        conn,
        audit_actor,
        action,
        &grantee,
        target,
        &label,
        json!({ "ended": reason }),
        now,
    )?;
    Ok(true)
}

#[allow(clippy::too_many_arguments)]
fn record(
    conn: &mut DbConn,
    actor: &AuditActor,
    action: &'static str,
    grantee: &User,
    target: Target,
    label: &str,
    detail: serde_json::Value,
    now: NaiveDateTime,
) -> diesel::QueryResult<()> {
    let (kind, id) = match target {
        Target::Conversation(id) => ("conversation", id),
        Target::Customer(id) => ("customer", id),
    };
    let mut after = serde_json::Map::new();
    after.insert("collaborator".into(), json!(grantee.email));
    after.insert(kind.into(), json!(label));
    after.insert(format!("{kind}_id"), json!(id));
    if let Some(detail) = detail.as_object() {
        after.extend(detail.clone());
    }
    let after = serde_json::Value::Object(after);
    audit::record(
        conn,
        actor,
        Event {
            action,
            target_type: "user",
            target_id: Some(grantee.id),
            target_label: &grantee.email,
            before: None,
            after: Some(after),
        },
        now,
    )
}

/// Someone new to invite as a collaborator, straight into a conversation.
pub struct InviteInput<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub whole_customer: bool,
    pub until: Until,
}

/// Why an invitation into a conversation did not happen.
#[derive(Debug)]
pub enum InviteRefusal {
    /// Of the grant (its fields, the policy, the conversation).
    Grant(Refusal),
    /// Of adding the user (email taken, the allowance, the policy).
    User(super::users::Outcome),
}

impl From<Refusal> for InviteRefusal {
    fn from(r: Refusal) -> Self {
        Self::Grant(r)
    }
}

impl From<diesel::result::Error> for InviteRefusal {
    fn from(e: diesel::result::Error) -> Self {
        Self::Grant(Refusal::Database(e))
    }
}

/// Invites `name <email>` as a collaborator, as Settings > Users would
/// (who may add collaborators, the allowance, the invitation email), who
/// sees nothing but what is granted here: this conversation, or its
/// customer's, until the day given. One transaction: both or neither.
pub fn invite_and_grant(
    conn: &mut DbConn,
    ctx: &Ctx,
    by: &By,
    conversation_id: i64,
    input: &InviteInput,
) -> Result<i64, InviteRefusal> {
    granting_on(conn, by, conversation_id)?;
    let mut fields = Fields::default();
    fields.text("name", input.name, super::users::MAX_NAME_CHARS);
    fields.email("email", input.email);
    let until = last_day(ctx, &input.until);
    if until.is_none() {
        fields.add("until", UNTIL_PROBLEM);
    }
    super::check(fields)?;
    let user = super::users::UserInput {
        user_type: UserType::Collaborator,
        name: input.name.trim().to_string(),
        email: input.email.trim().to_string(),
        language: None,
        timezone: None,
        role_id: None,
        team_ids: Vec::new(),
        access: policy::ConversationAccess::Teams,
        starts: None,
        ends: None,
    };
    let user_id = super::users::add_user(conn, by, ctx.org, &user, &ctx.config.public_url, ctx.now)
        .map_err(InviteRefusal::User)?;
    let until = until.map_or(Until::NotADate, Until::Day);
    Ok(grant(
        conn,
        ctx,
        by,
        conversation_id,
        &GrantInput {
            user_id: Some(user_id),
            whole_customer: input.whole_customer,
            until,
        },
    )?)
}
