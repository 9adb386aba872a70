//! Two-factor sign-in and Settings > Security. A user turns their second
//! factor on (with a first valid code), regenerates recovery codes or turns
//! it off (the front door has checked their password); an admin resets
//! someone's (which signs them out). Codes are accepted once: a TOTP step
//! only when newer than the last one used, a recovery code only while
//! unused. Every change is audited; a refusal writes nothing.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;

use super::{By, Fields, Problem, Refusal};
use crate::crypto;
use crate::db::DbConn;
use crate::db::schema::{org_settings, users};
use crate::models::audit::{self, AuditActor, Event};
use crate::models::customer;
use crate::models::org::{ORG_ID, OrgSettings};
use crate::models::people;
use crate::models::two_factor;
use crate::models::user::User;
use crate::policy::{self, Action, Actor, Flag, TwoFactorRule};
use crate::totp;

const WRONG_CODE: Problem = Problem::Rule {
    key: "two_factor.error.code",
    english: "is not a valid code",
};

fn audit_user(
    conn: &mut DbConn,
    by: &AuditActor,
    action: &str,
    user: &User,
    after: Option<serde_json::Value>,
    now: NaiveDateTime,
) -> Result<(), Refusal> {
    Ok(audit::record(
        conn,
        by,
        Event {
            action,
            target_type: "user",
            target_id: Some(user.id),
            target_label: &user.email,
            before: None,
            after,
        },
        now,
    )?)
}

/// Turns the second factor on with `secret` (shown to the user by the
/// setup page) once `code` proves their app has it; returns the ten
/// recovery codes, shown once.
pub fn enable(
    conn: &mut DbConn,
    by: &AuditActor,
    user: &User,
    secret: &str,
    code: &str,
    secret_key: &[u8],
    now: NaiveDateTime,
) -> Result<Vec<String>, Refusal> {
    if user.two_factor_since.is_some() {
        return Err(Refusal::Rule("two_factor.error.already_on"));
    }
    let Some(step) = totp::accepted_step(secret, code, now.and_utc().timestamp(), 0) else {
        let mut fields = Fields::default();
        fields.add("code", WRONG_CODE);
        return Err(Refusal::Fields(fields));
    };
    let codes = totp::new_recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| totp::recovery_code_hash(c)).collect();
    let sealed = crypto::seal(secret_key, secret);
    two_factor::enable(conn, user.id, &sealed, step, &hashes, now)?;
    audit_user(conn, by, "user.two_factor_enabled", user, None, now)?;
    Ok(codes)
}

/// New recovery codes replace the old ones (the front door checked the
/// password).
pub fn regenerate_recovery_codes(
    conn: &mut DbConn,
    by: &AuditActor,
    user: &User,
    now: NaiveDateTime,
) -> Result<Vec<String>, Refusal> {
    if user.two_factor_since.is_none() {
        return Err(Refusal::Rule("two_factor.error.not_on"));
    }
    let codes = totp::new_recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| totp::recovery_code_hash(c)).collect();
    two_factor::replace_recovery_codes(conn, user.id, &hashes)?;
    audit_user(conn, by, "user.recovery_codes_regenerated", user, None, now)?;
    Ok(codes)
}

/// The user turns their own second factor off (the front door checked the
/// password) — unless the organisation requires one of them.
pub fn disable(
    conn: &mut DbConn,
    by: &AuditActor,
    actor: &Actor,
    org: &OrgSettings,
    user: &User,
    now: NaiveDateTime,
) -> Result<(), Refusal> {
    if user.two_factor_since.is_none() {
        return Err(Refusal::Rule("two_factor.error.not_on"));
    }
    if policy::must_use_two_factor(rule_of(org), actor) {
        return Err(Refusal::Rule("two_factor.error.required"));
    }
    two_factor::remove(conn, user.id)?;
    audit_user(conn, by, "user.two_factor_disabled", user, None, now)?;
    Ok(())
}

/// An admin resets `target_id`'s second factor: it is removed, with their
/// recovery codes and remembered devices, and their sessions end.
pub fn reset(
    conn: &mut DbConn,
    by: &By,
    target_id: i64,
    now: NaiveDateTime,
) -> Result<User, Refusal> {
    let (target, managed) = people::load_managed(conn, target_id)?.ok_or(Refusal::NotFound)?;
    let (allowed, rule) = policy::can_reset_two_factor(by.actor, &managed);
    if !allowed {
        return Err(Refusal::Rule(rule.key()));
    }
    if target.two_factor_since.is_none() {
        // Nothing to reset: nobody is signed out for nothing.
        return Ok(target);
    }
    two_factor::remove(conn, target.id)?;
    diesel::update(users::table.find(target.id))
        .set((
            users::session_version.eq(users::session_version + 1),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    audit_user(conn, by.audit, "user.two_factor_reset", &target, None, now)?;
    Ok(target)
}

/// The break-glass of `confer reset-two-factor`: the operator of the
/// server, no policy, audited as the system.
pub fn reset_by_operator(
    conn: &mut DbConn,
    email: &str,
    now: NaiveDateTime,
) -> Result<User, Refusal> {
    let user = User::find_by_email(conn, email)?.ok_or(Refusal::NotFound)?;
    two_factor::remove(conn, user.id)?;
    diesel::update(users::table.find(user.id))
        .set(users::session_version.eq(users::session_version + 1))
        .execute(conn)?;
    audit_user(
        conn,
        &AuditActor::system(),
        "user.two_factor_reset",
        &user,
        Some(json!({ "by": "confer reset-two-factor" })),
        now,
    )?;
    Ok(user)
}

/// Which second factor a sign-in used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Used {
    Code,
    RecoveryCode,
}

/// Checks and uses up `input` (a six-digit code or a recovery code) for
/// `user`; `None` when it is wrong or already used.
pub fn verify(
    conn: &mut DbConn,
    user: &User,
    input: &str,
    secret_key: &[u8],
    now: NaiveDateTime,
) -> Result<Option<Used>, Refusal> {
    if user.two_factor_since.is_none() {
        return Ok(None);
    }
    if totp::is_code(input) {
        let Some((sealed, last_step)) = two_factor::secret(conn, user.id)? else {
            return Ok(None);
        };
        let Some(secret) = crypto::open(secret_key, &sealed) else {
            tracing::error!(
                user_id = user.id,
                "a TOTP secret does not open with this CONFER_SECRET_KEY"
            );
            return Ok(None);
        };
        let Some(step) = totp::accepted_step(&secret, input, now.and_utc().timestamp(), last_step)
        else {
            return Ok(None);
        };
        return Ok(two_factor::use_step(conn, user.id, step)?.then_some(Used::Code));
    }
    let hash = totp::recovery_code_hash(input);
    if !two_factor::use_recovery_code(conn, user.id, &hash, now)? {
        return Ok(None);
    }
    let left = two_factor::unused_recovery_codes(conn, user.id)?;
    audit_user(
        conn,
        &AuditActor {
            id: Some(user.id),
            name: format!("{} <{}>", user.name, user.email),
            ip: None,
        },
        "user.recovery_code_used",
        user,
        Some(json!({ "codes_left": left })),
        now,
    )?;
    Ok(Some(Used::RecoveryCode))
}

pub fn rule_of(org: &OrgSettings) -> TwoFactorRule {
    TwoFactorRule::parse(&org.two_factor_required).unwrap_or(TwoFactorRule::Off)
}

/// Settings > Security as the form describes it. `client_secret` `None`
/// keeps the stored one.
pub struct SecurityInput<'a> {
    pub two_factor: &'a str,
    pub sso_issuer: &'a str,
    pub sso_client_id: &'a str,
    pub sso_client_secret: Option<&'a str>,
    pub sso_label: &'a str,
    pub sso_create_domains: &'a str,
    pub sso_only: bool,
    /// `CONFER_OIDC_*` set the provider: the stored one is left as it is.
    pub environment_provider: bool,
}

/// Validates and saves Settings > Security (flag `settings.org`), every
/// problem at once; the audit entry never holds the client secret.
pub fn update_settings(
    conn: &mut DbConn,
    by: &By,
    org: &OrgSettings,
    input: &SecurityInput,
    secret_key: &[u8],
    now: NaiveDateTime,
) -> Result<(), Refusal> {
    policy::ensure(by.actor, Action::Use(Flag::SettingsOrg))?;
    let mut fields = Fields::default();
    let Some(rule) = TwoFactorRule::parse(input.two_factor) else {
        fields.add(
            "two_factor",
            Problem::Rule {
                key: "security.error.two_factor",
                english: "must be off, admins or everyone",
            },
        );
        return Err(Refusal::Fields(fields));
    };
    let stored = |value: &Option<String>| value.clone().unwrap_or_default();
    let (stored_issuer, stored_client, stored_label) = (
        stored(&org.sso_issuer),
        stored(&org.sso_client_id),
        stored(&org.sso_label),
    );
    let (issuer, client_id, label) = if input.environment_provider {
        (
            stored_issuer.as_str(),
            stored_client.as_str(),
            stored_label.as_str(),
        )
    } else {
        (
            input.sso_issuer.trim().trim_end_matches('/'),
            input.sso_client_id.trim(),
            input.sso_label.trim(),
        )
    };
    if !issuer.is_empty() && !crate::config::is_issuer_url(issuer) {
        fields.add(
            "sso_issuer",
            Problem::Rule {
                key: "security.error.issuer",
                english: "must be an https:// address (http:// only on this machine)",
            },
        );
    }
    if !issuer.is_empty() && client_id.is_empty() {
        fields.add("sso_client_id", Problem::Required);
    }
    if client_id.chars().count() > 500 {
        fields.add("sso_client_id", Problem::TooLong(500));
    }
    if label.chars().count() > 60 {
        fields.add("sso_label", Problem::TooLong(60));
    }
    let domains = customer::parse_domains(input.sso_create_domains);
    if let Some(bad) = domains.iter().find(|d| !customer::valid_domain(d)) {
        fields.add("sso_create_domains", Problem::Domain(bad.clone()));
    }
    if input.sso_only && issuer.is_empty() && !input.environment_provider {
        fields.add(
            "sso_only",
            Problem::Rule {
                key: "security.error.sso_only",
                english: "needs a configured identity provider",
            },
        );
    }
    super::check(fields)?;
    let sealed_secret = match input.sso_client_secret.map(str::trim) {
        Some(secret) if !secret.is_empty() && !input.environment_provider => {
            Some(crypto::seal(secret_key, secret))
        }
        _ => org.sso_client_secret.clone(),
    };
    let optional = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let before = settings_json(org);
    diesel::update(org_settings::table.find(ORG_ID))
        .set((
            org_settings::two_factor_required.eq(rule.key()),
            org_settings::sso_issuer.eq(optional(issuer)),
            org_settings::sso_client_id.eq(optional(client_id)),
            org_settings::sso_client_secret.eq(sealed_secret.clone()),
            org_settings::sso_label.eq(optional(label)),
            org_settings::sso_create_domains.eq(domains.join(", ")),
            org_settings::sso_only.eq(input.sso_only),
            org_settings::updated_at.eq(now),
        ))
        .execute(conn)?;
    let after = OrgSettings::find(conn)?.ok_or(Refusal::NotFound)?;
    let mut after_json = settings_json(&after);
    if sealed_secret != org.sso_client_secret {
        after_json["sso_client_secret"] = json!("changed");
    }
    audit::record(
        conn,
        by.audit,
        Event {
            action: "settings.security_updated",
            target_type: "organisation",
            target_id: Some(ORG_ID),
            target_label: &after.name,
            before: Some(before),
            after: Some(after_json),
        },
        now,
    )?;
    Ok(())
}

fn settings_json(org: &OrgSettings) -> serde_json::Value {
    json!({
        "two_factor_required": org.two_factor_required,
        "sso_issuer": org.sso_issuer,
        "sso_client_id": org.sso_client_id,
        "sso_client_secret": org.sso_client_secret.as_ref().map(|_| "set"),
        "sso_label": org.sso_label,
        "sso_create_domains": org.sso_create_domains,
        "sso_only": org.sso_only,
    })
}

/// Why single sign-on found no Confer user to sign in.
#[derive(Debug, PartialEq, Eq)]
pub enum SsoRefusal {
    /// No user has this email, and its domain does not create one.
    UnknownUser,
}

/// The Confer user the identity provider's verified `email` signs in as:
/// an existing one (an invited user who never set a password accepts the
/// invitation this way), or — when the email's domain is one of
/// `sso_create_domains` — a new Full-time Agent. Whether they may sign in
/// today (deactivated, seasonal window) the caller decides, as for a
/// password.
pub fn sso_user(
    conn: &mut DbConn,
    org: &OrgSettings,
    email: &str,
    name: Option<&str>,
    now: NaiveDateTime,
) -> Result<Result<User, SsoRefusal>, Refusal> {
    let system = AuditActor {
        id: None,
        name: "Single sign-on".into(),
        ip: None,
    };
    if let Some(user) = User::find_by_email(conn, email)? {
        if user.active && user.password_hash.is_none() {
            diesel::update(users::table.find(user.id))
                .set((
                    users::password_hash.eq(crate::models::user::NO_PASSWORD_SSO),
                    users::updated_at.eq(now),
                ))
                .execute(conn)?;
            crate::models::invitation::supersede_all(conn, user.id)?;
            audit_user(
                conn,
                &system,
                "user.invitation_accepted",
                &user,
                Some(json!({ "via": "sso" })),
                now,
            )?;
            return Ok(Ok(User::find(conn, user.id)?.ok_or(Refusal::NotFound)?));
        }
        return Ok(Ok(user));
    }
    let domain = email.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    if domain.is_empty()
        || !customer::parse_domains(&org.sso_create_domains)
            .iter()
            .any(|d| d == domain)
    {
        return Ok(Err(SsoRefusal::UnknownUser));
    }
    let name = name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| {
            n.chars()
                .take(super::users::MAX_NAME_CHARS)
                .collect::<String>()
        })
        .unwrap_or_else(|| email.split('@').next().unwrap_or(email).to_string());
    let role_id = crate::models::role::Role::id_of(conn, policy::BuiltinRole::Agent)?;
    let user = User::create_returning(
        conn,
        &crate::models::user::NewUser {
            name: &name,
            email,
            password_hash: Some(crate::models::user::NO_PASSWORD_SSO),
            user_type: policy::UserType::FullTime.key(),
            role_id: Some(role_id),
            language: None,
            timezone: None,
            conversation_access: policy::ConversationAccess::All.key(),
            active: true,
            access_starts: None,
            access_ends: None,
            session_version: 1,
            created_at: now,
            updated_at: now,
        },
    )?;
    audit_user(
        conn,
        &system,
        "user.created",
        &user,
        Some(json!({ "via": "sso", "type": "full_time", "role": "agent" })),
        now,
    )?;
    Ok(Ok(user))
}
