//! What users change about themselves: name, language, timezone, email
//! choices and their password (from the profile, or a reset link). A new
//! password ends every other session (the session version moves on).

use chrono::NaiveDateTime;

use super::{Fields, Problem, Refusal};
use crate::db::DbConn;
use crate::i18n::Lang;
use crate::models::password_reset;
use crate::models::user::{Preferences, User};

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
