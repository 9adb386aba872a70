//! What users change about themselves: name, language, timezone, email
//! choices, their password (from the profile, or a reset link) and their
//! API tokens. A new password ends every other session (the session version
//! moves on); tokens are created and revoked with an audit entry.

use chrono::NaiveDateTime;
use serde_json::json;

use super::{By, Fields, Problem, Refusal};
use crate::db::DbConn;
use crate::i18n::Lang;
use crate::i18n::Tr;
use crate::models::api_token;
use crate::models::audit::{self, Event};
use crate::models::org::OrgSettings;
use crate::models::outbox::{self, Mail};
use crate::models::password_reset;
use crate::models::user::{AccessState, Preferences, User};
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

/// The user was seen: their last activity moves to `now` (the dormant-seats
/// report reads it).
pub fn record_activity(conn: &mut DbConn, user_id: i64, now: NaiveDateTime) -> Result<(), Refusal> {
    Ok(User::touch_last_active(conn, user_id, now)?)
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

/// Sends a reset link to `email` if it is a user who may sign in today and
/// no link went out in the last minutes; says nothing either way (the page
/// must not tell who has an account).
pub fn request_password_reset(
    conn: &mut DbConn,
    email: &str,
    public_url: &str,
    now: NaiveDateTime,
) -> Result<(), Refusal> {
    let (Some(user), Some(org)) = (User::find_by_email(conn, email)?, OrgSettings::find(conn)?)
    else {
        return Ok(());
    };
    let can_sign_in = user.access_state(org.today(now)) == AccessState::Allowed;
    if !can_sign_in || password_reset::sent_recently(conn, user.id, now)? {
        return Ok(());
    }
    // With single sign-on the only way in, only the owner has a password
    // to reset.
    if org.sso_only
        && !User::load_actor(conn, user.id)?
            .is_some_and(|(_, _, actor)| policy::may_use_password(org.sso_only, &actor))
    {
        return Ok(());
    }
    let token = password_reset::create(conn, user.id, now)?;
    let t = Tr::new(user.lang(&org));
    let link = format!("{public_url}/password/reset/{token}");
    let (subject, body) = reset_mail(t, &org.name, &user.name, &link);
    outbox::enqueue(
        conn,
        &Mail {
            kind: "password_reset",
            recipient: &user.email,
            subject: &subject,
            body_text: &body,
            ..Mail::default()
        },
        now,
    )?;
    Ok(())
}

fn reset_mail(t: Tr, org: &str, name: &str, link: &str) -> (String, String) {
    let subject = t.fmt("email.reset.subject", &[("org", org)]);
    let body = [
        t.fmt("email.invitation.greeting", &[("name", name)]),
        String::new(),
        t.get("email.reset.body").to_string(),
        String::new(),
        link.to_string(),
        String::new(),
        t.fmt(
            "email.reset.expiry",
            &[("minutes", &password_reset::VALID_MINUTES.to_string())],
        ),
        String::new(),
        t.get("email.signature").to_string(),
    ]
    .join("\n");
    (subject, body)
}
