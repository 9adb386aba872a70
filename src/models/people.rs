//! People as lists, pickers and checks read them: seats and the
//! collaborator allowance, the users list and dormant seats, who can be
//! assigned, mentioned or see a conversation. Reads only; the writes are in
//! `services::users`.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{conversations, roles, team_memberships, teams, users};
use crate::models::conversation::Status;
use crate::models::org::OrgSettings;
use crate::models::role::Role;
use crate::models::user::User;
use crate::policy::{BuiltinRole, ManagedUser, UserType};

/// A user row with their role, as list queries return them.
pub type UserWithRole = (User, Option<Role>);

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
        .filter(users::user_type.eq(UserType::FullTime))
        .filter(users::password_hash.is_not_null())
        .count()
        .get_result(conn)?;
    let full_time_pending = active()
        .filter(users::user_type.eq(UserType::FullTime))
        .filter(users::password_hash.is_null())
        .count()
        .get_result(conn)?;
    let seasonal_now = active()
        .filter(users::user_type.eq(UserType::Seasonal))
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
        .filter(users::user_type.eq(UserType::Seasonal))
        .filter(users::access_starts.gt(today))
        .count()
        .get_result(conn)?;
    let collaborators = active()
        .filter(users::user_type.eq(UserType::Collaborator))
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

pub fn managed(user: &User, role: Option<&Role>) -> ManagedUser {
    let actor = user.actor(role, Vec::new(), crate::policy::Granted::default());
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

pub fn email_taken(conn: &mut DbConn, email: &str, except: Option<i64>) -> QueryResult<bool> {
    let mut query = users::table.filter(users::email.eq(email)).into_boxed();
    if let Some(id) = except {
        query = query.filter(users::id.ne(id));
    }
    Ok(query.count().get_result::<i64>(conn)? > 0)
}

/// Active users holding the built-in Admin role.
pub fn active_admins(conn: &mut DbConn) -> QueryResult<i64> {
    users::table
        .inner_join(roles::table)
        .filter(users::active.eq(true))
        .filter(users::user_type.ne(UserType::Collaborator))
        .filter(roles::key.eq(BuiltinRole::Admin.key()))
        .count()
        .get_result(conn)
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
    // -1 is no one's id: "except nobody".
    let except = except.unwrap_or(-1);
    crate::on_backend!(conn, |c| assignable()
        .filter(users::id.ne(except))
        .select((users::id, users::name))
        .order(users::name)
        .load(c))
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
    let collaborator: UserType = UserType::Collaborator;
    users::table
        .filter(users::active.eq(true))
        .filter(users::password_hash.is_not_null())
        .filter(users::user_type.ne(collaborator))
}

pub fn open_conversations_of(conn: &mut DbConn, user_id: i64) -> QueryResult<i64> {
    conversations::table
        .filter(conversations::assignee_id.eq(user_id))
        .filter(conversations::status.ne(Status::Done))
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

/// Someone who sees a conversation, and the rule that lets them.
pub struct Seer {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub collaborator: bool,
    pub rule: crate::policy::SightRule,
}

/// Active users who can sign in today and see the conversation, by name:
/// the policy decides for each (three queries, whatever the number of
/// users).
pub fn audience(
    conn: &mut DbConn,
    org: &OrgSettings,
    placement: crate::policy::Placement,
    now: NaiveDateTime,
) -> QueryResult<Vec<Seer>> {
    let people: Vec<UserWithRole> = users::table
        .left_join(roles::table)
        .select((users::all_columns, roles::all_columns.nullable()))
        .filter(users::active.eq(true))
        .filter(users::password_hash.is_not_null())
        .order((users::name, users::id))
        .load(conn)?;
    let mut memberships: HashMap<i64, Vec<i64>> = HashMap::new();
    for (user, team) in team_memberships::table
        .select((team_memberships::user_id, team_memberships::team_id))
        .load::<(i64, i64)>(conn)?
    {
        memberships.entry(user).or_default().push(team);
    }
    let mut grants = crate::models::grant::in_force_by_user(conn)?;
    let today = org.today(now);
    Ok(people
        .into_iter()
        .filter(|(user, _)| user.access_state(today) == crate::models::user::AccessState::Allowed)
        .filter_map(|(user, role)| {
            let teams = memberships.remove(&user.id).unwrap_or_default();
            let granted = grants.remove(&user.id).unwrap_or_default();
            let actor = user.actor(role.as_ref(), teams, granted);
            let (sees, rule) = crate::policy::sees_conversation(&actor, placement);
            sees.then(|| Seer {
                id: user.id,
                collaborator: actor.is_collaborator(),
                name: user.name,
                email: user.email,
                rule,
            })
        })
        .collect())
}

/// (name, email) of everyone in `audience`.
pub fn who_can_see(
    conn: &mut DbConn,
    org: &OrgSettings,
    placement: crate::policy::Placement,
    now: NaiveDateTime,
) -> QueryResult<Vec<(String, String)>> {
    Ok(audience(conn, org, placement, now)?
        .into_iter()
        .map(|seer| (seer.name, seer.email))
        .collect())
}
