//! User lifecycle: adding and inviting, editing, deactivating and
//! reactivating, seats and the collaborator allowance, seasonal windows.
//! Every function here runs inside one database transaction given by the
//! caller and writes its audit entries there too. Who may do what is decided
//! by `policy` before these are called.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde_json::json;

use crate::db::schema::{conversations, roles, team_memberships, teams, users};
use crate::db::{DbConn, write_transaction};
use crate::error::{AppError, AppResult};
use crate::i18n::{Lang, Tr};
use crate::models::audit::{self, AuditActor, Event};
use crate::models::invitation;
use crate::models::org::OrgSettings;
use crate::models::outbox::{self, Mail};
use crate::models::role::Role;
use crate::models::user::User;
use crate::policy::{BuiltinRole, ConversationAccess, ManagedUser, UserType};

/// A user row with their role, as list queries return them.
pub type UserWithRole = (User, Option<Role>);

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

/// How many collaborators the organisation may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Allowance {
    Unlimited,
    FullTimeSeats,
    Fixed(i64),
}

impl Allowance {
    pub fn of(org: &OrgSettings) -> Self {
        match org.collaborator_allowance.as_str() {
            "full_time_seats" => Self::FullTimeSeats,
            "fixed" => Self::Fixed(org.collaborator_allowance_fixed.unwrap_or(0).into()),
            _ => Self::Unlimited,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Self::Unlimited => "unlimited",
            Self::FullTimeSeats => "full_time_seats",
            Self::Fixed(_) => "fixed",
        }
    }

    /// The number allowed, `None` when unlimited.
    pub fn limit(self, full_time_seats: i64) -> Option<i64> {
        match self {
            Self::Unlimited => None,
            Self::FullTimeSeats => Some(full_time_seats),
            Self::Fixed(n) => Some(n),
        }
    }
}

/// The numbers at the top of the users list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Seats {
    pub full_time_active: i64,
    pub full_time_pending: i64,
    pub seasonal_now: i64,
    pub seasonal_scheduled: i64,
    pub collaborators: i64,
    pub collaborators_allowed: Option<i64>,
}

impl Seats {
    pub fn full_time_in_use(&self) -> i64 {
        self.full_time_active + self.full_time_pending
    }
}

pub fn seats(conn: &mut DbConn, org: &OrgSettings, today: NaiveDate) -> QueryResult<Seats> {
    let active = || users::table.filter(users::active.eq(true)).into_boxed();
    let full_time_active = active()
        .filter(users::user_type.eq("full_time"))
        .filter(users::password_hash.is_not_null())
        .count()
        .get_result(conn)?;
    let full_time_pending = active()
        .filter(users::user_type.eq("full_time"))
        .filter(users::password_hash.is_null())
        .count()
        .get_result(conn)?;
    let seasonal_now = active()
        .filter(users::user_type.eq("seasonal"))
        .filter(
            users::access_starts
                .is_null()
                .or(users::access_starts.le(today)),
        )
        .filter(
            users::access_ends
                .is_null()
                .or(users::access_ends.ge(today)),
        )
        .count()
        .get_result(conn)?;
    let seasonal_scheduled = active()
        .filter(users::user_type.eq("seasonal"))
        .filter(users::access_starts.gt(today))
        .count()
        .get_result(conn)?;
    let collaborators = active()
        .filter(users::user_type.eq("collaborator"))
        .count()
        .get_result(conn)?;
    let full_time_seats = full_time_active + full_time_pending;
    Ok(Seats {
        full_time_active,
        full_time_pending,
        seasonal_now,
        seasonal_scheduled,
        collaborators,
        collaborators_allowed: Allowance::of(org).limit(full_time_seats),
    })
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
        }
    }
}

/// Either a refusal to show, or a database error.
#[derive(Debug)]
pub enum Outcome {
    Refused(Refusal),
    Failed(diesel::result::Error),
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

fn managed(user: &User, role: Option<&Role>) -> ManagedUser {
    let actor = user.actor(role, Vec::new());
    ManagedUser {
        user_id: user.id,
        user_type: actor.user_type,
        role: actor.role,
    }
}

/// Loads a user with what the policy needs to judge managing them.
pub fn load_managed(conn: &mut DbConn, id: i64) -> QueryResult<Option<(User, ManagedUser)>> {
    Ok(User::find_with_role(conn, id)?.map(|(user, role)| {
        let managed = managed(&user, role.as_ref());
        (user, managed)
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
        t.get("email.signature").to_string(),
    ]
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

fn email_taken(conn: &mut DbConn, email: &str, except: Option<i64>) -> QueryResult<bool> {
    let mut query = users::table.filter(users::email.eq(email)).into_boxed();
    if let Some(id) = except {
        query = query.filter(users::id.ne(id));
    }
    Ok(query.count().get_result::<i64>(conn)? > 0)
}

/// Adds a user (no password yet), their teams, the invitation and its email,
/// and the audit entry — all in the caller's transaction.
pub fn add_user(
    conn: &mut DbConn,
    actor: &AuditActor,
    org: &OrgSettings,
    input: &UserInput,
    public_url: &str,
    now: NaiveDateTime,
) -> Result<i64, Outcome> {
    let email = crate::models::user::normalize_email(&input.email);
    if email_taken(conn, &email, None)? {
        return refuse(Refusal::EmailTaken);
    }
    check_references(conn, input)?;
    if input.user_type == UserType::Collaborator {
        check_allowance(conn, org, org.today(now), 1)?;
    }
    let id = insert_invited_user(conn, actor, org, input, &email, public_url, now)?;
    Ok(id)
}

/// The writes of adding a user, without the checks (the caller made them in
/// the same transaction): the user, their teams, the invitation and its
/// email, and the audit entry.
pub fn insert_invited_user(
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
    actor: &AuditActor,
    org: &OrgSettings,
    user_id: i64,
    input: &UserInput,
    now: NaiveDateTime,
) -> Result<(), Outcome> {
    let user = User::find(conn, user_id)?.ok_or(diesel::result::Error::NotFound)?;
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
    if user.active && user.role_id == Some(admin_role) && !stays_admin && active_admins(conn)? <= 1
    {
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
            actor,
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

/// Active users holding the built-in Admin role.
fn active_admins(conn: &mut DbConn) -> QueryResult<i64> {
    users::table
        .inner_join(roles::table)
        .filter(users::active.eq(true))
        .filter(users::user_type.ne("collaborator"))
        .filter(roles::key.eq(BuiltinRole::Admin.key()))
        .count()
        .get_result(conn)
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
        .filter(conversations::status.ne("done"))
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
            .filter(conversations::status.ne("done")),
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
    actor: &AuditActor,
    target: &User,
    target_role: Option<&ManagedUser>,
    reassign_to: Option<i64>,
    now: NaiveDateTime,
) -> Result<usize, Outcome> {
    let is_admin = target_role
        .and_then(|m| m.role.as_ref())
        .and_then(|r| r.builtin)
        == Some(BuiltinRole::Admin);
    if is_admin && target.active && active_admins(conn)? <= 1 {
        return refuse(Refusal::LastAdmin);
    }
    if let Some(to) = reassign_to {
        let valid: i64 = users::table
            .filter(users::id.eq(to))
            .filter(users::id.ne(target.id))
            .filter(users::active.eq(true))
            .filter(users::password_hash.is_not_null())
            .filter(users::user_type.ne("collaborator"))
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
        actor,
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
    actor: &AuditActor,
    org: &OrgSettings,
    target: &User,
    now: NaiveDateTime,
) -> Result<(), Outcome> {
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
        actor,
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
    actor: &AuditActor,
    org: &OrgSettings,
    target: &User,
    public_url: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    invitation::supersede_all(conn, target.id)?;
    invite(conn, org, target, actor.id, public_url, now)?;
    audit::record(
        conn,
        actor,
        Event {
            action: "user.invitation_resent",
            target_type: "user",
            target_id: Some(target.id),
            target_label: &target.email,
            before: None,
            after: None,
        },
        now,
    )
}

/// Withdraws a pending invitation: the never-signed-in user is removed, so
/// the address can be invited again later.
pub fn revoke_invitation(
    conn: &mut DbConn,
    actor: &AuditActor,
    target: &User,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let before = snapshot(conn, target)?;
    diesel::delete(users::table.find(target.id)).execute(conn)?;
    audit::record(
        conn,
        actor,
        Event {
            action: "user.invitation_revoked",
            target_type: "user",
            target_id: None,
            target_label: &target.email,
            before: Some(before),
            after: None,
        },
        now,
    )
}

/// Seasonal users whose window ended and whose ending was not handled yet:
/// their open conversations go back to their teams' queues, their sessions
/// end, and the audit log says so. Safe to run on several nodes at once:
/// each user is claimed by an update that only one node can win.
pub async fn close_ended_windows(state: &crate::state::AppState) -> AppResult<usize> {
    let now = state.clock.now();
    state
        .db(move |conn| {
            let Some(org) = OrgSettings::find(conn)? else {
                return Ok(0);
            };
            let today = org.today(now);
            let ended: Vec<(i64, String, NaiveDate)> = users::table
                .filter(users::user_type.eq("seasonal"))
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
                let done = write_transaction(conn, |conn| {
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
        })
        .await
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

/// Team names per user for a page of users, in one query.
pub fn team_names_of(
    conn: &mut DbConn,
    user_ids: &[i64],
) -> QueryResult<HashMap<i64, Vec<String>>> {
    let rows: Vec<(i64, String)> = team_memberships::table
        .inner_join(teams::table)
        .filter(team_memberships::user_id.eq_any(user_ids))
        .select((team_memberships::user_id, teams::name))
        .order(teams::name)
        .load(conn)?;
    let mut map: HashMap<i64, Vec<String>> = HashMap::new();
    for (user, team) in rows {
        map.entry(user).or_default().push(team);
    }
    Ok(map)
}

/// Which users the list shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tab {
    #[default]
    Active,
    Pending,
    Deactivated,
}

impl Tab {
    pub fn parse(text: &str) -> Self {
        match text {
            "pending" => Self::Pending,
            "deactivated" => Self::Deactivated,
            _ => Self::Active,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Pending => "pending",
            Self::Deactivated => "deactivated",
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct UserFilter {
    pub tab: Tab,
    pub search: Option<String>,
    pub user_type: Option<UserType>,
    pub role_id: Option<i64>,
    pub team_id: Option<i64>,
    /// Only users with no activity since this time (dormant seats).
    pub inactive_since: Option<NaiveDateTime>,
    /// Keyset cursor: the (name, id) of the last row of the previous page.
    pub after: Option<(String, i64)>,
}

/// A page of users with their roles, ordered by name; and whether more follow.
pub fn list_users(
    conn: &mut DbConn,
    filter: &UserFilter,
    limit: i64,
) -> QueryResult<(Vec<UserWithRole>, bool)> {
    let mut query = users::table
        .left_join(roles::table)
        .select((users::all_columns, roles::all_columns.nullable()))
        .into_boxed();
    query = match filter.tab {
        Tab::Active => query
            .filter(users::active.eq(true))
            .filter(users::password_hash.is_not_null()),
        Tab::Pending => query
            .filter(users::active.eq(true))
            .filter(users::password_hash.is_null()),
        Tab::Deactivated => query.filter(users::active.eq(false)),
    };
    if let Some(search) = filter.search.as_deref().filter(|s| !s.trim().is_empty()) {
        let pattern = crate::db::contains_pattern(search);
        query = query.filter(
            crate::db::lower(users::name)
                .like(pattern.clone())
                .escape('\\')
                .or(users::email.like(pattern).escape('\\')),
        );
    }
    if let Some(user_type) = filter.user_type {
        query = query.filter(users::user_type.eq(user_type.key()));
    }
    if let Some(role_id) = filter.role_id {
        query = query.filter(users::role_id.eq(role_id));
    }
    if let Some(team_id) = filter.team_id {
        let members = team_memberships::table
            .filter(team_memberships::team_id.eq(team_id))
            .select(team_memberships::user_id);
        query = query.filter(users::id.eq_any(members));
    }
    if let Some(since) = filter.inactive_since {
        query = query.filter(
            users::last_active_at
                .is_null()
                .or(users::last_active_at.lt(since)),
        );
    }
    if let Some((name, id)) = &filter.after {
        query = query.filter(
            users::name
                .gt(name.clone())
                .or(users::name.eq(name.clone()).and(users::id.gt(*id))),
        );
    }
    let mut rows: Vec<UserWithRole> = query
        .order((users::name, users::id))
        .limit(limit + 1)
        .load(conn)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    Ok((rows, more))
}

/// Active, signed-up users idle since `since`, least recently active first
/// (never active at all first of all).
pub fn dormant_users(conn: &mut DbConn, since: NaiveDateTime) -> QueryResult<Vec<UserWithRole>> {
    let mut rows: Vec<UserWithRole> = users::table
        .left_join(roles::table)
        .select((users::all_columns, roles::all_columns.nullable()))
        .filter(users::active.eq(true))
        .filter(users::password_hash.is_not_null())
        .filter(
            users::last_active_at
                .is_null()
                .or(users::last_active_at.lt(since)),
        )
        .load(conn)?;
    rows.sort_by_key(|(u, _)| (u.last_active_at, u.id));
    Ok(rows)
}

/// Active full-time and seasonal users who can take over conversations.
/// Who conversations can be assigned to: active, signed-up, not
/// collaborators; without `except` (the user being deactivated), if given.
pub fn assignable_users(conn: &mut DbConn, except: Option<i64>) -> QueryResult<Vec<(i64, String)>> {
    let mut query = assignable().into_boxed();
    if let Some(id) = except {
        query = query.filter(users::id.ne(id));
    }
    query
        .select((users::id, users::name))
        .order(users::name)
        .load(conn)
}

/// Whether conversations can be assigned to this user: one query.
pub fn is_assignable(conn: &mut DbConn, user_id: i64) -> QueryResult<bool> {
    let found: i64 = assignable()
        .filter(users::id.eq(user_id))
        .count()
        .get_result(conn)?;
    Ok(found > 0)
}

#[diesel::dsl::auto_type]
fn assignable() -> _ {
    let collaborator: &'static str = "collaborator";
    users::table
        .filter(users::active.eq(true))
        .filter(users::password_hash.is_not_null())
        .filter(users::user_type.ne(collaborator))
}

pub fn open_conversations_of(conn: &mut DbConn, user_id: i64) -> QueryResult<i64> {
    conversations::table
        .filter(conversations::assignee_id.eq(user_id))
        .filter(conversations::status.ne("done"))
        .count()
        .get_result(conn)
}

/// Active users not yet in a team, for its "add member" picker.
pub fn addable_to_team(conn: &mut DbConn, member_ids: &[i64]) -> QueryResult<Vec<(i64, String)>> {
    users::table
        .filter(users::active.eq(true))
        .filter(users::id.ne_all(member_ids))
        .select((users::id, users::name))
        .order(users::name)
        .load(conn)
}

/// What the policy needs to judge managing an already loaded user.
pub fn load_managed_from(user: &User, role: Option<&Role>) -> ManagedUser {
    managed(user, role)
}

/// Active, signed-up users who could be @mentioned: (id, name, email).
pub fn mentionable_users(conn: &mut DbConn) -> QueryResult<Vec<crate::mentions::Candidate>> {
    users::table
        .filter(users::active.eq(true))
        .filter(users::password_hash.is_not_null())
        .select((users::id, users::name, users::email))
        .load(conn)
}

/// Display names of these users, by name.
pub fn names_of(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<String>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    users::table
        .filter(users::id.eq_any(ids))
        .select(users::name)
        .order(users::name)
        .load(conn)
}

/// Active users who may see a conversation of `team_id`, by name: the
/// policy decides for each (three queries, whatever the number of users).
pub fn who_can_see(
    conn: &mut DbConn,
    org: &OrgSettings,
    team_id: Option<i64>,
    now: NaiveDateTime,
) -> QueryResult<Vec<(String, String)>> {
    let people: Vec<UserWithRole> = users::table
        .left_join(roles::table)
        .select((users::all_columns, roles::all_columns.nullable()))
        .filter(users::active.eq(true))
        .filter(users::password_hash.is_not_null())
        .order(users::name)
        .load(conn)?;
    let memberships: Vec<(i64, i64)> = team_memberships::table
        .select((team_memberships::user_id, team_memberships::team_id))
        .load(conn)?;
    let today = org.today(now);
    Ok(people
        .into_iter()
        .filter(|(user, _)| user.access_state(today) == crate::models::user::AccessState::Allowed)
        .filter(|(user, role)| {
            let teams = memberships
                .iter()
                .filter(|(u, _)| *u == user.id)
                .map(|(_, t)| *t)
                .collect();
            match crate::policy::conversation_scope(&user.actor(role.as_ref(), teams)).0 {
                crate::policy::ConversationScope::All => true,
                crate::policy::ConversationScope::Teams(ids) => {
                    team_id.is_some_and(|t| ids.contains(&t))
                }
                crate::policy::ConversationScope::None => false,
            }
        })
        .map(|(user, _)| (user.name, user.email))
        .collect())
}
