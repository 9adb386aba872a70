//! User lifecycle for Settings > Users, the API, SCIM and the CSV import:
//! adding and inviting, editing, deactivating and reactivating, the
//! collaborator allowance, invitations, seasonal windows. Each write asks
//! `policy` (the actor's flags and the managing rules: owner, last admin,
//! roles above one's own) and writes its audit entry in the caller's
//! transaction; a refusal writes nothing.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde_json::json;

use crate::db::DbConn;
use crate::db::schema::{conversations, roles, team_memberships, teams, users};
use crate::error::AppError;
use crate::i18n::{Lang, Tr};
use crate::models::audit::{self, AuditActor, Event};
use crate::models::conversation::Status;
use crate::models::invitation;
use crate::models::org::OrgSettings;
use crate::models::outbox::{self, Mail};
use crate::models::people::{self, active_admins, email_taken, seats};
use crate::models::role::Role;
use crate::models::user::User;
use crate::policy::{
    self, Action, BuiltinRole, ConversationAccess, Denied, Flag, ManageRule, ManagedUser, UserType,
};

pub use super::By;

/// The longest name a user may have, wherever it is typed (the form, the
/// CSV import, the API, SCIM).
pub const MAX_NAME_CHARS: usize = 200;

/// What the add and edit forms (and the CSV import) describe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserInput {
    pub user_type: UserType,
    pub name: String,
    pub email: String,
    pub language: Option<Lang>,
    pub timezone: Option<String>,
    pub role_id: Option<i64>,
    pub team_ids: Vec<i64>,
    pub access: ConversationAccess,
    pub starts: Option<NaiveDate>,
    pub ends: Option<NaiveDate>,
}

impl UserInput {
    /// The stored user described as the edit form describes users.
    pub fn of(user: &User, mut team_ids: Vec<i64>) -> Self {
        team_ids.sort_unstable();
        Self {
            user_type: user.user_type(),
            name: user.name.clone(),
            email: user.email.clone(),
            language: user.language.as_deref().and_then(Lang::parse),
            timezone: user.timezone.clone(),
            role_id: user.role_id,
            team_ids,
            access: user.conversation_access(),
            starts: user.access_starts,
            ends: user.access_ends,
        }
    }
}

/// Refusals the user can act on; each renders as a message on the page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    EmailTaken,
    /// (in use, allowed)
    CollaboratorAllowance(i64, i64),
    LastAdmin,
    UnknownRole,
    UnknownTeam,
    UnknownAssignee,
    /// Another user has this SCIM `userName`.
    UserNameTaken,
}

impl Refusal {
    pub fn message(&self, t: Tr) -> String {
        match self {
            Self::EmailTaken => t.get("users.error.email_taken").to_string(),
            Self::CollaboratorAllowance(used, allowed) => t.fmt(
                "users.error.allowance",
                &[
                    ("used", &used.to_string()),
                    ("allowed", &allowed.to_string()),
                ],
            ),
            Self::LastAdmin => t.get("users.error.last_admin").to_string(),
            Self::UnknownRole => t.get("users.error.unknown_role").to_string(),
            Self::UnknownTeam => t.get("users.error.unknown_team").to_string(),
            Self::UnknownAssignee => t.get("users.error.unknown_assignee").to_string(),
            Self::UserNameTaken => t.get("users.error.email_taken").to_string(),
        }
    }
}

/// A refusal to show, a refusal by the policy, or a database error.
#[derive(Debug)]
pub enum Outcome {
    Refused(Refusal),
    /// The actor lacks the permission.
    Denied(Denied),
    /// The actor may not manage this user or give this role.
    Unmanageable(ManageRule),
    Failed(diesel::result::Error),
}

impl From<Denied> for Outcome {
    fn from(d: Denied) -> Self {
        Self::Denied(d)
    }
}

/// Refuses unless the actor may manage users at all.
fn may_manage(by: &By) -> Result<(), Outcome> {
    Ok(policy::ensure(by.actor, Action::Use(Flag::UsersManage))?)
}

/// Refuses unless the policy's managing rule allows it.
fn rule((allowed, rule): (bool, ManageRule)) -> Result<(), Outcome> {
    if allowed {
        Ok(())
    } else {
        Err(Outcome::Unmanageable(rule))
    }
}

/// Refuses unless the actor may give this type and role.
fn may_grant(conn: &mut DbConn, by: &By, input: &UserInput) -> Result<(), Outcome> {
    let grant = match input.role_id {
        Some(id) => crate::models::role::find(conn, id)?.map(|r| r.grant()),
        None => None,
    };
    rule(policy::can_grant(by.actor, input.user_type, grant.as_ref()))
}

impl From<diesel::result::Error> for Outcome {
    fn from(e: diesel::result::Error) -> Self {
        Self::Failed(e)
    }
}

impl From<Outcome> for AppError {
    fn from(o: Outcome) -> Self {
        match o {
            Outcome::Failed(e) => e.into(),
            Outcome::Denied(d) => d.into(),
            Outcome::Unmanageable(rule) => AppError::Forbidden(format!("{rule:?}")),
            Outcome::Refused(r) => AppError::Internal(format!("unhandled refusal {r:?}")),
        }
    }
}

fn refuse<T>(r: Refusal) -> Result<T, Outcome> {
    Err(Outcome::Refused(r))
}

/// Refuses when `adding` more collaborators would pass the allowance.
pub fn check_allowance(
    conn: &mut DbConn,
    org: &OrgSettings,
    today: NaiveDate,
    adding: i64,
) -> Result<(), Outcome> {
    let seats = seats(conn, org, today)?;
    if let Some(allowed) = seats.collaborators_allowed
        && seats.collaborators + adding > allowed
    {
        return refuse(Refusal::CollaboratorAllowance(seats.collaborators, allowed));
    }
    Ok(())
}

fn check_references(conn: &mut DbConn, input: &UserInput) -> Result<(), Outcome> {
    if let Some(role_id) = input.role_id {
        let found: i64 = roles::table
            .filter(roles::id.eq(role_id))
            .count()
            .get_result(conn)?;
        if found == 0 {
            return refuse(Refusal::UnknownRole);
        }
    }
    let found: i64 = teams::table
        .filter(teams::id.eq_any(&input.team_ids))
        .count()
        .get_result(conn)?;
    if found != input.team_ids.len() as i64 {
        return refuse(Refusal::UnknownTeam);
    }
    Ok(())
}

pub fn set_teams(conn: &mut DbConn, user_id: i64, team_ids: &[i64]) -> QueryResult<()> {
    diesel::delete(team_memberships::table.filter(team_memberships::user_id.eq(user_id)))
        .execute(conn)?;
    crate::models::team::Team::add_memberships(conn, user_id, team_ids)
}

/// The state of a user as the audit log records it.
fn snapshot(conn: &mut DbConn, user: &User) -> QueryResult<serde_json::Value> {
    let role = match user.role_id {
        Some(id) => roles::table
            .find(id)
            .select(roles::name)
            .first::<String>(conn)
            .optional()?,
        None => None,
    };
    let team_names: Vec<String> = teams::table
        .inner_join(team_memberships::table)
        .filter(team_memberships::user_id.eq(user.id))
        .select(teams::name)
        .order(teams::name)
        .load(conn)?;
    Ok(json!({
        "name": user.name,
        "email": user.email,
        "type": user.user_type,
        "role": role,
        "teams": team_names,
        "language": user.language,
        "timezone": user.timezone,
        "conversation_access": user.conversation_access,
        "access_starts": user.access_starts.map(|d| d.to_string()),
        "access_ends": user.access_ends.map(|d| d.to_string()),
        "active": user.active,
    }))
}

/// The invitation email, in the invitee's language.
pub fn invitation_mail(
    org: &OrgSettings,
    user: &User,
    token: &str,
    public_url: &str,
) -> (String, String) {
    let lang = user.lang(org);
    let t = Tr::new(lang);
    let link = format!("{public_url}/invitations/{token}");
    let subject = t.fmt("email.invitation.subject", &[("org", &org.name)]);
    let body = [
        t.fmt("email.invitation.greeting", &[("name", &user.name)]),
        String::new(),
        t.fmt("email.invitation.body", &[("org", &org.name)]),
        String::new(),
        link,
        String::new(),
        t.fmt(
            "email.invitation.expiry",
            &[("days", &invitation::VALID_DAYS.to_string())],
        ),
        String::new(),
    ];
    // A seasonal user learns their window before they try to sign in.
    let window = match (user.user_type(), user.access_starts, user.access_ends) {
        (UserType::Seasonal, Some(starts), Some(ends)) => vec![
            t.fmt(
                "email.invitation.window",
                &[
                    ("starts", &crate::i18n::format_date(starts, t)),
                    ("ends", &crate::i18n::format_date(ends, t)),
                ],
            ),
            String::new(),
        ],
        _ => Vec::new(),
    };
    let body = [&body[..], &window, &[t.get("email.signature").to_string()]]
        .concat()
        .join("\n");
    (subject, body)
}

/// Creates a fresh invitation link for `user` and queues its email.
/// Earlier links must have been superseded by the caller (a new user has none).
fn invite(
    conn: &mut DbConn,
    org: &OrgSettings,
    user: &User,
    invited_by: Option<i64>,
    public_url: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let token = invitation::new_token();
    let (subject, body) = invitation_mail(org, user, &token, public_url);
    let mail_id = outbox::enqueue(
        conn,
        &Mail {
            kind: "invitation",
            recipient: &user.email,
            subject: &subject,
            body_text: &body,
            ..Mail::default()
        },
        now,
    )?;
    invitation::insert(conn, user.id, invited_by, &token, mail_id, now)
}

/// Whether another user than `except` holds `email` (compared normalized).
/// Asked by `add_user`, and by a form with other errors, so that a user
/// hears of every problem at once.
pub fn email_refusal(
    conn: &mut DbConn,
    email: &str,
    except: Option<i64>,
) -> QueryResult<Option<Refusal>> {
    let email = crate::models::user::normalize_email(email);
    Ok(email_taken(conn, &email, except)?.then_some(Refusal::EmailTaken))
}

/// Adds a user (no password yet), their teams, the invitation and its email,
/// and the audit entry — all in the caller's transaction.
pub fn add_user(
    conn: &mut DbConn,
    by: &By,
    org: &OrgSettings,
    input: &UserInput,
    public_url: &str,
    now: NaiveDateTime,
) -> Result<i64, Outcome> {
    may_manage(by)?;
    may_grant(conn, by, input)?;
    if let Some(refusal) = email_refusal(conn, &input.email, None)? {
        return refuse(refusal);
    }
    let email = crate::models::user::normalize_email(&input.email);
    check_references(conn, input)?;
    if input.user_type == UserType::Collaborator {
        check_allowance(conn, org, org.today(now), 1)?;
    }
    let id = insert_invited_user(conn, by.audit, org, input, &email, public_url, now)?;
    Ok(id)
}

/// The writes of adding a user, after `add_user`'s checks: the user, their
/// teams, the invitation and its email, and the audit entry.
fn insert_invited_user(
    conn: &mut DbConn,
    actor: &AuditActor,
    org: &OrgSettings,
    input: &UserInput,
    email: &str,
    public_url: &str,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    let role_id = input
        .role_id
        .filter(|_| input.user_type != UserType::Collaborator);
    let seasonal = input.user_type == UserType::Seasonal;
    let user = User::create_returning(
        conn,
        &crate::models::user::NewUser {
            name: input.name.trim(),
            email,
            password_hash: None,
            user_type: input.user_type.key(),
            role_id,
            language: input.language.map(Lang::code),
            timezone: input.timezone.as_deref(),
            conversation_access: input.access.key(),
            active: true,
            access_starts: input.starts.filter(|_| seasonal),
            access_ends: input.ends.filter(|_| seasonal),
            session_version: 1,
            created_at: now,
            updated_at: now,
        },
    )?;
    let id = user.id;
    crate::models::team::Team::add_memberships(conn, id, &input.team_ids)?;
    invite(conn, org, &user, actor.id, public_url, now)?;
    audit::record(
        conn,
        actor,
        Event {
            action: "user.invited",
            target_type: "user",
            target_id: Some(id),
            target_label: email,
            before: None,
            after: Some(json!({
                "name": input.name.trim(),
                "type": input.user_type.key(),
                "role_id": role_id,
                "team_ids": input.team_ids,
                "language": input.language.map(Lang::code),
                "timezone": input.timezone,
                "conversation_access": input.access.key(),
                "access_starts": input.starts.filter(|_| seasonal).map(|d| d.to_string()),
                "access_ends": input.ends.filter(|_| seasonal).map(|d| d.to_string()),
            })),
        },
        now,
    )?;
    Ok(id)
}

/// Applies the edit form. Type and role changes take effect on the user's
/// next request (every request re-reads them).
pub fn update_user(
    conn: &mut DbConn,
    by: &By,
    org: &OrgSettings,
    user_id: i64,
    input: &UserInput,
    now: NaiveDateTime,
) -> Result<(), Outcome> {
    may_manage(by)?;
    let (user, managed) =
        people::load_managed(conn, user_id)?.ok_or(diesel::result::Error::NotFound)?;
    rule(policy::can_manage_user(by.actor, &managed))?;
    may_grant(conn, by, input)?;
    let email = crate::models::user::normalize_email(&input.email);
    if email_taken(conn, &email, Some(user_id))? {
        return refuse(Refusal::EmailTaken);
    }
    check_references(conn, input)?;
    if input.user_type == UserType::Collaborator
        && user.user_type() != UserType::Collaborator
        && user.active
    {
        check_allowance(conn, org, org.today(now), 1)?;
    }
    let admin_role = Role::id_of(conn, BuiltinRole::Admin)?;
    let stays_admin =
        input.user_type != UserType::Collaborator && input.role_id == Some(admin_role);
    let active_admin = user.active && user.role_id == Some(admin_role);
    if active_admin && !policy::keeps_an_admin(true, stays_admin, active_admins(conn)?) {
        return refuse(Refusal::LastAdmin);
    }
    let before = snapshot(conn, &user)?;
    let collaborator = input.user_type == UserType::Collaborator;
    let seasonal = input.user_type == UserType::Seasonal;
    diesel::update(users::table.find(user_id))
        .set((
            users::name.eq(input.name.trim()),
            users::email.eq(&email),
            users::user_type.eq(input.user_type.key()),
            users::role_id.eq(input.role_id.filter(|_| !collaborator)),
            users::language.eq(input.language.map(Lang::code)),
            users::timezone.eq(input.timezone.as_deref()),
            users::conversation_access.eq(input.access.key()),
            users::access_starts.eq(input.starts.filter(|_| seasonal)),
            users::access_ends.eq(input.ends.filter(|_| seasonal)),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    set_teams(conn, user_id, &input.team_ids)?;
    let updated = User::find(conn, user_id)?.ok_or(diesel::result::Error::NotFound)?;
    let after = snapshot(conn, &updated)?;
    if before != after {
        audit::record(
            conn,
            by.audit,
            Event {
                action: "user.updated",
                target_type: "user",
                target_id: Some(user_id),
                target_label: &updated.email,
                before: Some(before),
                after: Some(after),
            },
            now,
        )?;
    }
    Ok(())
}

/// Hands a user's open conversations back: to `to` if given, else to the
/// unassigned queue of the conversation's team. Returns how many moved.
pub fn hand_back_conversations(
    conn: &mut DbConn,
    user_id: i64,
    to: Option<i64>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let handed: Vec<i64> = conversations::table
        .filter(conversations::assignee_id.eq(user_id))
        .filter(conversations::status.ne(Status::Done))
        .select(conversations::id)
        .load(conn)?;
    for &id in &handed {
        crate::models::webhook::enqueue(
            conn,
            "assignment.changed",
            json!({ "conversation_id": id, "from_user_id": user_id, "to_user_id": to }),
            now,
        )?;
    }
    diesel::update(
        conversations::table
            .filter(conversations::assignee_id.eq(user_id))
            .filter(conversations::status.ne(Status::Done)),
    )
    .set((
        conversations::assignee_id.eq(to),
        conversations::updated_at.eq(now),
    ))
    .execute(conn)
}

/// Deactivates: signed out everywhere (session version), open conversations
/// handed back, audit entry. `reassign_to` must be an active full-time or
/// seasonal user.
pub fn deactivate(
    conn: &mut DbConn,
    by: &By,
    target: &User,
    managed: &ManagedUser,
    reassign_to: Option<i64>,
    now: NaiveDateTime,
) -> Result<usize, Outcome> {
    may_manage(by)?;
    rule(policy::can_deactivate(by.actor, managed))?;
    let is_admin = managed.role.as_ref().and_then(|r| r.builtin) == Some(BuiltinRole::Admin);
    let active_admin = is_admin && target.active;
    if active_admin && !policy::keeps_an_admin(true, false, active_admins(conn)?) {
        return refuse(Refusal::LastAdmin);
    }
    if let Some(to) = reassign_to {
        let valid: i64 = users::table
            .filter(users::id.eq(to))
            .filter(users::id.ne(target.id))
            .filter(users::active.eq(true))
            .filter(users::password_hash.is_not_null())
            .filter(users::user_type.ne(UserType::Collaborator))
            .count()
            .get_result(conn)?;
        if valid == 0 {
            return refuse(Refusal::UnknownAssignee);
        }
    }
    diesel::update(users::table.find(target.id))
        .set((
            users::active.eq(false),
            users::deactivated_at.eq(now),
            users::session_version.eq(users::session_version + 1),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    invitation::supersede_all(conn, target.id)?;
    crate::models::api_token::revoke_all_of(conn, target.id, now)?;
    let moved = hand_back_conversations(conn, target.id, reassign_to, now)?;
    crate::models::webhook::enqueue(
        conn,
        "user.deactivated",
        json!({ "user_id": target.id, "email": target.email, "conversations_handed_back": moved }),
        now,
    )?;
    audit::record(
        conn,
        by.audit,
        Event {
            action: "user.deactivated",
            target_type: "user",
            target_id: Some(target.id),
            target_label: &target.email,
            before: Some(json!({ "active": true })),
            after: Some(json!({
                "active": false,
                "conversations_handed_back": moved,
                "reassigned_to": reassign_to,
            })),
        },
        now,
    )?;
    Ok(moved)
}

/// Reactivates: the profile and history are as they were; the seat counts
/// again (so the collaborator allowance applies).
pub fn reactivate(
    conn: &mut DbConn,
    by: &By,
    org: &OrgSettings,
    target: &User,
    managed: &ManagedUser,
    now: NaiveDateTime,
) -> Result<(), Outcome> {
    may_manage(by)?;
    rule(policy::can_manage_user(by.actor, managed))?;
    if target.user_type() == UserType::Collaborator {
        check_allowance(conn, org, org.today(now), 1)?;
    }
    diesel::update(users::table.find(target.id))
        .set((
            users::active.eq(true),
            users::deactivated_at.eq(None::<NaiveDateTime>),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    audit::record(
        conn,
        by.audit,
        Event {
            action: "user.reactivated",
            target_type: "user",
            target_id: Some(target.id),
            target_label: &target.email,
            before: Some(json!({ "active": false })),
            after: Some(json!({ "active": true })),
        },
        now,
    )?;
    Ok(())
}

/// A new link for a pending invitation; the old link dies.
pub fn resend_invitation(
    conn: &mut DbConn,
    by: &By,
    org: &OrgSettings,
    target: &User,
    managed: &ManagedUser,
    public_url: &str,
    now: NaiveDateTime,
) -> Result<(), Outcome> {
    may_manage(by)?;
    rule(policy::can_manage_user(by.actor, managed))?;
    invitation::supersede_all(conn, target.id)?;
    invite(conn, org, target, by.audit.id, public_url, now)?;
    audit::record(
        conn,
        by.audit,
        Event {
            action: "user.invitation_resent",
            target_type: "user",
            target_id: Some(target.id),
            target_label: &target.email,
            before: None,
            after: None,
        },
        now,
    )?;
    Ok(())
}

/// Withdraws a pending invitation: the never-signed-in user is removed, so
/// the address can be invited again later.
pub fn revoke_invitation(
    conn: &mut DbConn,
    by: &By,
    target: &User,
    managed: &ManagedUser,
    now: NaiveDateTime,
) -> Result<(), Outcome> {
    may_manage(by)?;
    rule(policy::can_manage_user(by.actor, managed))?;
    let before = snapshot(conn, target)?;
    diesel::delete(users::table.find(target.id)).execute(conn)?;
    audit::record(
        conn,
        by.audit,
        Event {
            action: "user.invitation_revoked",
            target_type: "user",
            target_id: None,
            target_label: &target.email,
            before: Some(before),
            after: None,
        },
        now,
    )?;
    Ok(())
}

/// Seasonal users whose window ended and whose ending was not handled yet:
/// their open conversations go back to their teams' queues, their sessions
/// end, and the audit log says so. Safe to run on several nodes at once:
/// each user is claimed by an update that only one node can win.
pub fn close_ended_windows(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    let Some(org) = OrgSettings::find(conn)? else {
        return Ok(0);
    };
    let today = org.today(now);
    let ended: Vec<(i64, String, NaiveDate)> = users::table
        .filter(users::user_type.eq(UserType::Seasonal))
        .filter(users::access_ends.lt(today))
        .filter(
            users::window_closed_for
                .is_null()
                .or(users::window_closed_for
                    .nullable()
                    .ne(users::access_ends.nullable())),
        )
        .select((
            users::id,
            users::email,
            users::access_ends.assume_not_null(),
        ))
        .load(conn)?;
    let mut closed = 0;
    for (id, email, ends) in ended {
        let done = crate::db::write_transaction(conn, |conn| {
            let claimed = diesel::update(
                users::table.find(id).filter(
                    users::window_closed_for
                        .is_null()
                        .or(users::window_closed_for.ne(ends)),
                ),
            )
            .set((
                users::window_closed_for.eq(ends),
                users::session_version.eq(users::session_version + 1),
            ))
            .execute(conn)?;
            if claimed == 0 {
                return Ok::<_, diesel::result::Error>(false);
            }
            let moved = hand_back_conversations(conn, id, None, now)?;
            audit::record(
                conn,
                &AuditActor::system(),
                Event {
                    action: "user.window_ended",
                    target_type: "user",
                    target_id: Some(id),
                    target_label: &email,
                    before: None,
                    after: Some(json!({
                        "access_ends": ends.to_string(),
                        "conversations_handed_back": moved,
                    })),
                },
                now,
            )?;
            Ok(true)
        })?;
        closed += usize::from(done);
    }
    Ok(closed)
}

/// Accepting an invitation: sets the password; the link dies.
pub fn accept_invitation(
    conn: &mut DbConn,
    invitation_id: i64,
    user_id: i64,
    password_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<User>> {
    let claimed = diesel::update(
        crate::db::schema::invitations::table
            .find(invitation_id)
            .filter(crate::db::schema::invitations::accepted_at.is_null())
            .filter(crate::db::schema::invitations::superseded.eq(false)),
    )
    .set(crate::db::schema::invitations::accepted_at.eq(now))
    .execute(conn)?;
    if claimed == 0 {
        return Ok(None);
    }
    invitation::supersede_all(conn, user_id)?;
    diesel::update(users::table.find(user_id))
        .set((
            users::password_hash.eq(password_hash),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    User::find(conn, user_id)
}

/// The identity provider's own names for a user (SCIM `userName` when it is
/// not the email, and `externalId`). A `userName` another user has
/// (compared without case, as SCIM does) is refused.
pub fn set_provisioning_ids(
    conn: &mut DbConn,
    by: &By,
    user_id: i64,
    user_name: Option<&str>,
    external_id: Option<&str>,
) -> Result<(), Outcome> {
    may_manage(by)?;
    if let Some(name) = user_name {
        let taken: i64 = users::table
            .filter(
                crate::db::lower(users::scim_user_name.assume_not_null()).eq(name.to_lowercase()),
            )
            .filter(users::id.ne(user_id))
            .count()
            .get_result(conn)?;
        if taken > 0 {
            return Err(Outcome::Refused(Refusal::UserNameTaken));
        }
    }
    diesel::update(users::table.find(user_id))
        .set((
            users::scim_user_name.eq(user_name),
            users::scim_external_id.eq(external_id),
        ))
        .execute(conn)?;
    Ok(())
}
