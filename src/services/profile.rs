//! What users change about themselves: name, language, timezone, email
//! choices, their password (from the profile, or a reset link) and their
//! API tokens. A new password ends every other session (the session version
//! moves on); tokens are created and revoked with an audit entry.

use chrono::NaiveDateTime;
use serde_json::json;

use super::{By, Fields, Problem, Refusal};
use crate::db::DbConn;
use crate::i18n::Lang;
use crate::models::api_token;
use crate::models::audit::{self, Event};
use crate::models::password_reset;
use crate::models::user::{Preferences, User};
use crate::policy::{self, Action, Flag};

pub const MAX_NAME_CHARS: usize = 120;

/// The profile form (fields `name`, `language`, `timezone`); an empty
/// language or timezone follows the organisation's.
pub fn update_preferences(
    conn: &mut DbConn,
    user_id: i64,
    preferences: &Preferences,
    now: NaiveDateTime,
) -> Result<(), Refusal> {
    let mut fields = Fields::default();
    fields.text("name", preferences.name, MAX_NAME_CHARS);
    if preferences
        .language
        .is_some_and(|code| Lang::parse(code).is_none())
    {
        fields.add("language", Problem::Language);
    }
    if preferences
        .timezone
        .is_some_and(|tz| !crate::forms::is_timezone(tz))
    {
        fields.add("timezone", Problem::Timezone);
    }
    super::check(fields)?;
    let trimmed = Preferences {
        name: preferences.name.trim(),
        ..*preferences
    };
    Ok(User::update_preferences(conn, user_id, &trimmed, now)?)
}

/// Sets the user's new password (checked and hashed by the front door,
/// which also checked the current one); returns the user as now stored.
pub fn set_password(
    conn: &mut DbConn,
    user_id: i64,
    hash: &str,
    now: NaiveDateTime,
) -> Result<User, Refusal> {
    User::set_password(conn, user_id, hash, now)?;
    User::find(conn, user_id)?.ok_or(Refusal::NotFound)
}

/// Sets a password through a reset link; `None` when the link was used
/// meanwhile (every link of the user dies with it).
pub fn reset_password(
    conn: &mut DbConn,
    reset_id: i64,
    user_id: i64,
    hash: &str,
    now: NaiveDateTime,
) -> Result<Option<User>, Refusal> {
    if !password_reset::use_all(conn, reset_id, user_id, now)? {
        return Ok(None);
    }
    set_password(conn, user_id, hash, now).map(Some)
}

pub const MAX_TOKEN_NAME_CHARS: usize = 100;

/// A personal API token for the actor (field `name`): the token, shown
/// once; only its hash is kept.
pub fn create_token(
    conn: &mut DbConn,
    by: &By,
    name: &str,
    now: NaiveDateTime,
) -> Result<String, Refusal> {
    let mut fields = Fields::default();
    fields.text("name", name, MAX_TOKEN_NAME_CHARS);
    super::check(fields)?;
    let (user_id, label) = (by.actor.user_id, name.trim());
    let (id, token) = api_token::create(conn, user_id, label, now)?;
    audit::record(
        conn,
        by.audit,
        Event {
            action: "api_token.created",
            target_type: "api_token",
            target_id: Some(id),
            target_label: label,
            before: None,
            after: Some(json!({ "user_id": user_id, "name": label })),
        },
        now,
    )?;
    Ok(token)
}

/// Revokes a token: one's own, or anyone's with `settings.tokens`; others'
/// are `NotFound`, as if they did not exist.
pub fn revoke_token(
    conn: &mut DbConn,
    by: &By,
    id: i64,
    now: NaiveDateTime,
) -> Result<(), Refusal> {
    let token = api_token::find(conn, id)?.ok_or(Refusal::NotFound)?;
    let may_revoke_any = policy::can(by.actor, Action::Use(Flag::SettingsTokens)).allowed;
    if token.user_id != by.actor.user_id && !may_revoke_any {
        return Err(Refusal::NotFound);
    }
    if api_token::revoke(conn, id, now)? == 1 {
        audit::record(
            conn,
            by.audit,
            Event {
                action: "api_token.revoked",
                target_type: "api_token",
                target_id: Some(id),
                target_label: &token.name,
                before: Some(json!({ "user_id": token.user_id, "revoked": false })),
                after: Some(json!({ "revoked": true })),
            },
            now,
        )?;
    }
    Ok(())
}
