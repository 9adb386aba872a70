//! Users as stored: email always lower-case (unique without case), type and
//! conversation access as enums, and the actor the policy judges them by,
//! built from the row, its role and its teams on every request.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{org_settings, roles, users};
use crate::models::grant::{GrantsOfUser, granted_from};
use crate::models::org::{ORG_ID, OrgSettings};
use crate::models::role::Role;
use crate::models::team::{TeamIdsOfUser, team_ids_from};
use crate::policy::{Actor, ConversationAccess, Granted, UserType};

crate::text_column!(UserType);
crate::text_column!(ConversationAccess);

impl serde::Serialize for UserType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.key())
    }
}

impl serde::Serialize for ConversationAccess {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.key())
    }
}

#[derive(Queryable, Clone, Debug)]
pub struct User {
    pub id: i64,
    pub name: String,
    /// Always stored lower-case: addresses are unique case-insensitively.
    pub email: String,
    pub password_hash: Option<String>,
    pub user_type: UserType,
    pub role_id: Option<i64>,
    pub language: Option<String>,
    pub timezone: Option<String>,
    pub conversation_access: ConversationAccess,
    pub active: bool,
    pub access_starts: Option<NaiveDate>,
    pub access_ends: Option<NaiveDate>,
    pub session_version: i32,
    #[diesel(deserialize_as = crate::db::OptionalStoredTime)]
    pub last_active_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = crate::db::StoredTime)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::StoredTime)]
    pub updated_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::OptionalStoredTime)]
    pub deactivated_at: Option<NaiveDateTime>,
    /// The end date of the last access window whose closing was handled.
    pub window_closed_for: Option<NaiveDate>,
    pub email_on_mention: bool,
    pub email_on_assignment: bool,
    pub email_on_reply: bool,
    /// The identity provider's id for this user (SCIM `externalId`).
    pub scim_external_id: Option<String>,
    /// The identity provider's `userName` when it is not the email address.
    pub scim_user_name: Option<String>,
    /// Since when sign-in asks for a second factor (none: it does not).
    #[diesel(deserialize_as = crate::db::OptionalStoredTime)]
    pub two_factor_since: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub password_hash: Option<&'a str>,
    pub user_type: &'a str,
    pub role_id: Option<i64>,
    pub language: Option<&'a str>,
    pub timezone: Option<&'a str>,
    pub conversation_access: &'a str,
    pub active: bool,
    pub access_starts: Option<NaiveDate>,
    pub access_ends: Option<NaiveDate>,
    pub session_version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What users set on their own profile.
#[derive(Clone, Copy)]
pub struct Preferences<'a> {
    pub name: &'a str,
    pub language: Option<&'a str>,
    pub timezone: Option<&'a str>,
    pub email_on_mention: bool,
    pub email_on_assignment: bool,
    pub email_on_reply: bool,
}

/// Whether a user may be signed in today.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessState {
    Allowed,
    Deactivated,
    NoPassword,
    WindowNotStarted(NaiveDate),
    WindowEnded(NaiveDate),
}

/// The stored "password" of a user who came in through single sign-on
/// and never set one: it is no bcrypt hash, so no password matches it, and
/// the invitation counts as accepted.
pub const NO_PASSWORD_SSO: &str = "!sso";

pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// What every signed-in request needs first (`User::load_context`).
pub struct ReaderContext {
    pub user: User,
    pub role: Option<Role>,
    pub actor: Actor,
    pub org: OrgSettings,
    /// Unread notifications, before asking which of them the reader may
    /// still see: when none, there is nothing more to count.
    pub unread_any: i64,
}

crate::sql_per_backend!(
    /// How many notifications the selected user has not read, whatever
    /// they are about.
    UnreadOfUser,
    diesel::sql_types::BigInt,
    both: "(SELECT COUNT(*) FROM notifications \
           WHERE notifications.user_id = users.id AND notifications.read_at IS NULL)",
);

impl User {
    /// The user's language, else the organisation's default.
    pub fn lang(&self, org: &crate::models::org::OrgSettings) -> crate::i18n::Lang {
        self.language
            .as_deref()
            .and_then(crate::i18n::Lang::parse)
            .or_else(|| crate::i18n::Lang::parse(&org.default_language))
            .unwrap_or_default()
    }

    /// The user's own timezone, else the organisation's.
    pub fn tz(&self, org: &crate::models::org::OrgSettings) -> chrono_tz::Tz {
        self.timezone
            .as_deref()
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(|| org.tz())
    }

    /// Has this user a password they can type (not only single sign-on)?
    pub fn has_password(&self) -> bool {
        self.password_hash
            .as_deref()
            .is_some_and(|h| h != NO_PASSWORD_SSO)
    }

    pub fn user_type(&self) -> UserType {
        self.user_type
    }

    pub fn conversation_access(&self) -> ConversationAccess {
        self.conversation_access
    }

    /// `today` is the date in the organisation's timezone: seasonal windows
    /// are whole days there.
    pub fn access_state(&self, today: NaiveDate) -> AccessState {
        if !self.active {
            return AccessState::Deactivated;
        }
        if self.password_hash.is_none() {
            return AccessState::NoPassword;
        }
        self.window_state(today)
    }

    /// Whether `today` lies in a seasonal user's access window (`Allowed`
    /// for everyone else), password or not.
    pub fn window_state(&self, today: NaiveDate) -> AccessState {
        if self.user_type() == UserType::Seasonal {
            if let Some(start) = self.access_starts.filter(|&s| today < s) {
                return AccessState::WindowNotStarted(start);
            }
            if let Some(end) = self.access_ends.filter(|&e| today > e) {
                return AccessState::WindowEnded(end);
            }
        }
        AccessState::Allowed
    }

    pub fn create(conn: &mut DbConn, new: &NewUser) -> QueryResult<i64> {
        diesel::insert_into(users::table)
            .values(new)
            .returning(users::id)
            .get_result(conn)
    }

    /// Inserts and returns the stored row (one round trip).
    pub fn create_returning(conn: &mut DbConn, new: &NewUser) -> QueryResult<User> {
        diesel::insert_into(users::table)
            .values(new)
            .returning(users::all_columns)
            .get_result(conn)
    }

    pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<User>> {
        users::table.find(id).first(conn).optional()
    }

    pub fn find_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<User>> {
        users::table
            .filter(users::email.eq(normalize_email(email)))
            .first(conn)
            .optional()
    }

    /// The user with their role, in one query.
    pub fn find_with_role(conn: &mut DbConn, id: i64) -> QueryResult<Option<(User, Option<Role>)>> {
        crate::on_backend!(conn, |c| users::table
            .left_join(roles::table)
            .filter(users::id.eq(id))
            .select((users::all_columns, roles::all_columns.nullable()))
            .first(c)
            .optional())
    }

    pub fn owner_exists(conn: &mut DbConn) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(
            users::table
                .inner_join(roles::table)
                .filter(roles::key.eq(crate::policy::BuiltinRole::Owner.key())),
        ))
        .get_result(conn)
    }

    pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
        users::table.count().get_result(conn)
    }

    pub fn last_active_is_stale(user: &User, now: NaiveDateTime) -> bool {
        user.last_active_at
            .is_none_or(|at| at < now - chrono::Duration::seconds(60))
    }

    /// At most one write a minute per user, not one per request (the
    /// condition is repeated in SQL so concurrent requests write once).
    pub fn touch_last_active(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<()> {
        let stale = now - chrono::Duration::seconds(60);
        diesel::update(
            users::table.filter(users::id.eq(id)).filter(
                users::last_active_at
                    .is_null()
                    .or(users::last_active_at.lt(stale)),
            ),
        )
        .set(users::last_active_at.eq(now))
        .execute(conn)
        .map(|_| ())
    }

    pub fn update_preferences(
        conn: &mut DbConn,
        id: i64,
        p: &Preferences,
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        diesel::update(users::table.find(id))
            .set((
                users::name.eq(p.name),
                users::language.eq(p.language),
                users::timezone.eq(p.timezone),
                users::email_on_mention.eq(p.email_on_mention),
                users::email_on_assignment.eq(p.email_on_assignment),
                users::email_on_reply.eq(p.email_on_reply),
                users::updated_at.eq(now),
            ))
            .execute(conn)
            .map(|_| ())
    }

    /// Changes the password and ends every other session of this user
    /// (the session version is part of each session cookie).
    pub fn set_password(
        conn: &mut DbConn,
        id: i64,
        hash: &str,
        now: NaiveDateTime,
    ) -> QueryResult<i32> {
        diesel::update(users::table.find(id))
            .set((
                users::password_hash.eq(hash),
                users::session_version.eq(users::session_version + 1),
                users::updated_at.eq(now),
            ))
            .returning(users::session_version)
            .get_result(conn)
    }

    /// Builds what the policy needs to decide for this user.
    pub fn actor(&self, role: Option<&Role>, team_ids: Vec<i64>, granted: Granted) -> Actor {
        let user_type = self.user_type();
        Actor {
            user_id: self.id,
            user_type,
            role: match user_type {
                UserType::Collaborator => None,
                _ => role.map(Role::grant),
            },
            conversation_access: self.conversation_access(),
            team_ids,
            granted,
        }
    }

    /// The user, their role and what they may do (their teams read in the
    /// same statement).
    pub fn load_actor(
        conn: &mut DbConn,
        id: i64,
    ) -> QueryResult<Option<(User, Option<Role>, Actor)>> {
        type Found = (User, Option<Role>, Option<String>, Option<String>);
        let found: Option<Found> = crate::on_backend!(conn, |c| users::table
            .left_join(roles::table)
            .filter(users::id.eq(id))
            .select((
                users::all_columns,
                roles::all_columns.nullable(),
                TeamIdsOfUser,
                GrantsOfUser,
            ))
            .first(c)
            .optional())?;
        Ok(found.map(|(user, role, teams, granted)| {
            let actor = user.actor(
                role.as_ref(),
                team_ids_from(teams.as_deref()),
                granted_from(granted.as_deref()),
            );
            (user, role, actor)
        }))
    }

    /// What every signed-in request needs first, in one statement: the
    /// user, their role, what they may do, the organisation's settings and
    /// whether they have unread notifications.
    pub fn load_context(conn: &mut DbConn, id: i64) -> QueryResult<Option<ReaderContext>> {
        type Found = (
            User,
            Option<Role>,
            OrgSettings,
            Option<String>,
            Option<String>,
            i64,
        );
        let found: Option<Found> = crate::on_backend!(conn, |c| users::table
            .left_join(roles::table)
            .inner_join(org_settings::table.on(org_settings::id.eq(ORG_ID)))
            .filter(users::id.eq(id))
            .select((
                users::all_columns,
                roles::all_columns.nullable(),
                org_settings::all_columns,
                TeamIdsOfUser,
                GrantsOfUser,
                UnreadOfUser,
            ))
            .first(c)
            .optional())?;
        Ok(found.map(
            |(user, role, org, teams, granted, unread_any)| ReaderContext {
                actor: user.actor(
                    role.as_ref(),
                    team_ids_from(teams.as_deref()),
                    granted_from(granted.as_deref()),
                ),
                user,
                role,
                org,
                unread_any,
            },
        ))
    }
}
