//! The organisation: created once with its owner — by `/setup` in the
//! browser or `confer create-owner`, with the same checks (every field at
//! once, a unique email) and the caller's clock; a second owner is refused —
//! then its settings and its inbound-mail and SCIM tokens, each change
//! asked of `policy` and audited.

use chrono::NaiveDateTime;
use serde_json::json;

use super::{By, Fields, Problem, Refusal};
use crate::db::DbConn;
use crate::i18n::Lang;
use crate::models::audit::{self, Event};
use crate::models::org::{self, NewOrgSettings, OrgChanges, OrgSettings};
use crate::models::role::Role;
use crate::models::team::Team;
use crate::models::user::{NewUser, User, normalize_email};
use crate::policy::{self, Action, BuiltinRole, ConversationAccess, Flag, UserType};

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

/// Settings > Organisation as typed (fields `name`, `default_language`,
/// `timezone`, `allowance`, `allowance_fixed`, `intake_team`).
pub struct SettingsInput<'a> {
    pub name: &'a str,
    pub default_language: &'a str,
    pub timezone: &'a str,
    /// `unlimited`, `full_time_seats` or `fixed`.
    pub allowance: &'a str,
    /// Needed with `fixed`: a number of 0 or more.
    pub allowance_fixed: Option<i32>,
    pub mask_contacts: bool,
    pub intake_team_id: Option<i64>,
}

/// Saves the organisation's settings (`settings.org`), with an audit entry
/// of what changed.
pub fn update_settings(
    conn: &mut DbConn,
    by: &By,
    input: &SettingsInput,
    now: NaiveDateTime,
) -> Result<(), Refusal> {
    policy::ensure(by.actor, Action::Use(Flag::SettingsOrg))?;
    let before = OrgSettings::find(conn)?.ok_or(Refusal::NotFound)?;
    let mut fields = Fields::default();
    fields.text("name", input.name, MAX_NAME_CHARS);
    if Lang::parse(input.default_language).is_none() {
        fields.add("default_language", Problem::Language);
    }
    if !crate::forms::is_timezone(input.timezone.trim()) {
        fields.add("timezone", Problem::Timezone);
    }
    let fixed = input.allowance_fixed.filter(|n| *n >= 0);
    match input.allowance {
        "unlimited" | "full_time_seats" => {}
        "fixed" if fixed.is_some() => {}
        "fixed" => fields.add(
            "allowance_fixed",
            Problem::Rule {
                key: "settings.org.allowance_number",
                english: "a number of 0 or more",
            },
        ),
        _ => fields.add("allowance", Problem::Required),
    }
    if let Some(team) = input.intake_team_id
        && Team::find(conn, team)?.is_none()
    {
        fields.add("intake_team", Problem::UnknownTeam);
    }
    super::check(fields)?;
    let lang = Lang::parse(input.default_language).unwrap_or_default();
    let changes = OrgChanges {
        name: input.name.trim(),
        default_language: lang.code(),
        timezone: input.timezone.trim(),
        collaborator_allowance: input.allowance,
        collaborator_allowance_fixed: fixed.filter(|_| input.allowance == "fixed"),
        mask_contacts_for_collaborators: input.mask_contacts,
        intake_team_id: input.intake_team_id,
        updated_at: now,
    };
    let old = serde_json::to_value(before.as_changes()).map_err(serialisation)?;
    let new = serde_json::to_value(&changes).map_err(serialisation)?;
    OrgSettings::update(conn, &changes)?;
    if old != new {
        audit::record(
            conn,
            by.audit,
            Event {
                action: "organisation.updated",
                target_type: "organisation",
                target_id: None,
                target_label: changes.name,
                before: Some(old),
                after: Some(new),
            },
            now,
        )?;
    }
    Ok(())
}

fn serialisation(e: serde_json::Error) -> Refusal {
    Refusal::Database(diesel::result::Error::SerializationError(Box::new(e)))
}

/// A token's audit entry: whether there was one before and is one after.
fn token_changed(
    conn: &mut DbConn,
    by: &By,
    (action, label): (&str, &str),
    had: bool,
    has: bool,
    now: NaiveDateTime,
) -> Result<(), Refusal> {
    audit::record(
        conn,
        by.audit,
        Event {
            action,
            target_type: "org",
            target_id: None,
            target_label: label,
            before: Some(json!({ "token": had })),
            after: Some(json!({ "token": has })),
        },
        now,
    )?;
    Ok(())
}

/// Sets (a hash) or removes the inbound mail token (`settings.org`).
pub fn set_inbound_token(
    conn: &mut DbConn,
    by: &By,
    hash: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), Refusal> {
    policy::ensure(by.actor, Action::Use(Flag::SettingsOrg))?;
    let had = OrgSettings::find(conn)?
        .ok_or(Refusal::NotFound)?
        .inbound_token_hash
        .is_some();
    OrgSettings::set_inbound_token(conn, hash, now)?;
    let action = if hash.is_some() {
        "inbound_token.created"
    } else {
        "inbound_token.removed"
    };
    token_changed(
        conn,
        by,
        (action, "inbound email"),
        had,
        hash.is_some(),
        now,
    )
}

/// Sets (a hash) or removes the SCIM token (`settings.tokens`).
pub fn set_scim_token(
    conn: &mut DbConn,
    by: &By,
    hash: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), Refusal> {
    policy::ensure(by.actor, Action::Use(Flag::SettingsTokens))?;
    let had = OrgSettings::find(conn)?
        .ok_or(Refusal::NotFound)?
        .scim_token_hash
        .is_some();
    OrgSettings::set_scim_token(conn, hash, now)?;
    let action = if hash.is_some() {
        "scim_token.created"
    } else {
        "scim_token.removed"
    };
    token_changed(conn, by, (action, "SCIM"), had, hash.is_some(), now)
}
