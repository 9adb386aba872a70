//! The organisation and its owner, created once — by `/setup` in the browser
//! or `confer create-owner` — with the same checks (every field at once, a
//! unique email) and the caller's clock. A second owner is refused.

use chrono::NaiveDateTime;

use super::{Fields, Problem, Refusal};
use crate::db::DbConn;
use crate::i18n::Lang;
use crate::models::org::{self, NewOrgSettings, OrgChanges, OrgSettings};
use crate::models::role::Role;
use crate::models::user::{NewUser, User, normalize_email};
use crate::policy::{BuiltinRole, ConversationAccess, UserType};

pub const MAX_NAME_CHARS: usize = 120;

/// Refused when an owner exists (two people finishing setup at once: only
/// the first wins).
pub const OWNER_EXISTS: &str = "setup.owner_exists";

/// The organisation and its owner (fields `org_name`, `default_language`,
/// `timezone`, `name`, `email`). The password is checked and hashed by the
/// front door, which holds it.
pub struct Setup<'a> {
    pub org_name: &'a str,
    pub default_language: &'a str,
    pub timezone: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
}

/// Every problem of `input` that needs no database.
pub fn problems(input: &Setup) -> Fields {
    let mut fields = Fields::default();
    fields.text("org_name", input.org_name, MAX_NAME_CHARS);
    if Lang::parse(input.default_language).is_none() {
        fields.add("default_language", Problem::Language);
    }
    if !crate::forms::is_timezone(input.timezone.trim()) {
        fields.add("timezone", Problem::Timezone);
    }
    fields.text("name", input.name, MAX_NAME_CHARS);
    fields.email("email", input.email);
    fields
}

/// Creates (or completes) the organisation and its owner; returns the owner.
pub fn set_up(conn: &mut DbConn, input: &Setup, now: NaiveDateTime) -> Result<User, Refusal> {
    if User::owner_exists(conn)? {
        return Err(Refusal::Rule(OWNER_EXISTS));
    }
    let mut fields = problems(input);
    let email = normalize_email(input.email);
    if User::find_by_email(conn, &email)?.is_some() {
        fields.add(
            "email",
            Problem::Taken {
                key: "users.error.email_taken",
                english: "is already a user",
            },
        );
    }
    super::check(fields)?;
    let lang = Lang::parse(input.default_language).unwrap_or_default();
    let (name, timezone) = (input.org_name.trim(), input.timezone.trim());
    if OrgSettings::find(conn)?.is_some() {
        OrgSettings::update(
            conn,
            &OrgChanges {
                name,
                default_language: lang.code(),
                timezone,
                collaborator_allowance: "unlimited",
                collaborator_allowance_fixed: None,
                mask_contacts_for_collaborators: false,
                intake_team_id: None,
                updated_at: now,
            },
        )?;
    } else {
        OrgSettings::create(
            conn,
            &NewOrgSettings {
                id: org::ORG_ID,
                name,
                default_language: lang.code(),
                timezone,
                created_at: now,
                updated_at: now,
            },
        )?;
    }
    let owner_role = Role::id_of(conn, BuiltinRole::Owner)?;
    let id = User::create(
        conn,
        &NewUser {
            name: input.name.trim(),
            email: &email,
            password_hash: Some(input.password_hash),
            user_type: UserType::FullTime.key(),
            role_id: Some(owner_role),
            language: None,
            timezone: None,
            conversation_access: ConversationAccess::All.key(),
            active: true,
            access_starts: None,
            access_ends: None,
            session_version: 1,
            created_at: now,
            updated_at: now,
        },
    )?;
    User::find(conn, id)?.ok_or(Refusal::NotFound)
}
