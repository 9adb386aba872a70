//! Two-factor sign-in in the browser: the code asked for after the password
//! (or the identity provider), setup from the profile with a QR code drawn
//! here, recovery codes shown once, turning it off, and an admin's reset.
//! Every write is a call to `services::security`.

use actix_session::Session;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::Duration;
use serde::Deserialize;

use crate::auth::{self, CurrentUser, throttle};
use crate::crypto::{random_token, token_hash};
use crate::db::write_transaction;
use crate::error::{AppError, AppResult};
use crate::forms::FieldErrors;
use crate::handlers::session::org_name;
use crate::models::login_failure;
use crate::models::org::OrgSettings;
use crate::models::two_factor;
use crate::models::user::{AccessState, User};
use crate::pages::{Ctx, html_with_status};
use crate::services::security::{self, Used};
use crate::state::AppState;
use crate::totp;
use crate::web::redirect;

use crate::error::TWO_FACTOR_SETUP_PATH as SETUP_PATH;
const CODE_PATH: &str = "/login/two-factor";
/// The remembered-device cookie: a random token whose hash is stored.
pub const DEVICE_COOKIE: &str = "confer_device";
const REMEMBER_DAYS: i64 = 30;
/// The secret being set up lives in the (encrypted) session until the
/// first code confirms it.
const SESSION_SETUP_SECRET: &str = "totp_setup";

/// After the first factor — a password or the identity provider — signs
/// the user in, or asks for their second factor first unless this device
/// is remembered for them.
pub async fn after_first_factor(
    req: &HttpRequest,
    session: &Session,
    state: &AppState,
    user: &User,
    org: &OrgSettings,
    next: &str,
) -> AppResult<HttpResponse> {
    let lang = user.lang(org);
    let now = state.clock.now();
    if user.two_factor_since.is_some() {
        let remembered = match req.cookie(DEVICE_COOKIE) {
            Some(cookie) => {
                let (id, hash) = (user.id, token_hash(cookie.value()));
                state
                    .db(move |conn| Ok(two_factor::device_remembered(conn, id, &hash, now)?))
                    .await?
            }
            None => false,
        };
        if !remembered {
            auth::begin_second_factor(session, user, lang, next, now)?;
            return Ok(redirect(CODE_PATH));
        }
    }
    auth::sign_in(session, user, lang)?;
    tracing::info!(user_id = user.id, "signed in");
    Ok(redirect(next))
}

#[derive(Template)]
#[template(path = "pages/login_two_factor.html")]
struct CodePage {
    ctx: Ctx,
    error: Option<String>,
    remember: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CodeForm {
    pub code: String,
    /// A checkbox: present when ticked.
    pub remember: Option<String>,
}

pub async fn show_code(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    if auth::pending_second_factor(&session, state.clock.now()).is_none() {
        return Ok(redirect("/login?expired=1"));
    }
    let page = CodePage {
        ctx: Ctx::for_visitor(&req, org_name(&state).await?),
        error: None,
        remember: false,
    };
    html_with_status(&page, StatusCode::OK)
}

pub async fn submit_code(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    form: web::Form<CodeForm>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let Some(pending) = auth::pending_second_factor(&session, now) else {
        return Ok(redirect("/login?expired=1"));
    };
    let ctx = Ctx::for_visitor(&req, org_name(&state).await?);
    let t = ctx.t;
    let remember = form.remember.is_some();
    let page = |ctx: Ctx, error: String| CodePage {
        ctx,
        error: Some(error),
        remember,
    };
    let user_id = pending.user_id;
    let (user, org) = state
        .db(move |conn| Ok((User::find(conn, user_id)?, OrgSettings::find(conn)?)))
        .await?;
    let (Some(user), Some(org)) = (user, org) else {
        auth::sign_out(&session);
        return Ok(redirect("/login?expired=1"));
    };
    if user.session_version != pending.session_version
        || user.access_state(org.today(now)) != AccessState::Allowed
    {
        auth::sign_out(&session);
        return Ok(redirect("/login?expired=1"));
    }
    // Throttled exactly like passwords, in the same counters.
    let ip = crate::net::client_ip_text(&req);
    let scopes = [
        throttle::account_scope(&user.email),
        throttle::ip_scope(&ip),
    ];
    let account = scopes[0].clone();
    let locked = state
        .db(move |conn| throttle::locked_for(conn, &[(account, throttle::MAX_PER_ACCOUNT)], now))
        .await?;
    if let Some(minutes) = locked {
        let message = t.fmt("login.throttled", &[("minutes", &minutes.to_string())]);
        return html_with_status(&page(ctx, message), StatusCode::TOO_MANY_REQUESTS);
    }
    let secret_key = state.config.secret_key.clone();
    let (checked, code) = (user.clone(), form.code.trim().to_string());
    let used = state
        .db(move |conn| {
            Ok(write_transaction(conn, |conn| {
                security::verify(conn, &checked, &code, &secret_key, now)
            })?)
        })
        .await?;
    let Some(used) = used else {
        state
            .db(move |conn| {
                for scope in &scopes {
                    login_failure::record(conn, scope, now)?;
                }
                Ok(())
            })
            .await?;
        return html_with_status(
            &page(ctx, t.get("two_factor.wrong_code").to_string()),
            StatusCode::UNAUTHORIZED,
        );
    };
    let account = scopes[0].clone();
    let device = remember.then(random_token);
    let (id, device_hash) = (user.id, device.as_deref().map(token_hash));
    state
        .db(move |conn| {
            login_failure::clear(conn, &account)?;
            if let Some(hash) = device_hash {
                let until = now + Duration::days(REMEMBER_DAYS);
                two_factor::remember_device(conn, id, &hash, until, now)?;
            }
            Ok(())
        })
        .await?;
    auth::sign_in(&session, &user, user.lang(&org))?;
    tracing::info!(user_id = user.id, second_factor = ?used, "signed in");
    let next = match used {
        Used::Code => pending.next,
        Used::RecoveryCode => format!("{SETUP_PATH}?recovery=1"),
    };
    let mut response = redirect(&next);
    if let Some(token) = device {
        let cookie = Cookie::build(DEVICE_COOKIE, token)
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(state.config.secure_cookies())
            .max_age(actix_web::cookie::time::Duration::days(REMEMBER_DAYS))
            .finish();
        response
            .add_cookie(&cookie)
            .map_err(|e| AppError::Internal(format!("device cookie: {e}")))?;
    }
    Ok(response)
}

#[derive(Template)]
#[template(path = "pages/two_factor.html")]
struct SetupPage {
    ctx: Ctx,
    /// Set up already: since when.
    on_since: Option<String>,
    /// The organisation requires it of this user.
    required: bool,
    /// For setup: the QR code (inline SVG) and the secret in groups.
    qr_svg: String,
    secret: String,
    codes_left: i64,
    has_password: bool,
    errors: FieldErrors,
    notice: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "pages/two_factor_codes.html")]
struct CodesPage {
    ctx: Ctx,
    codes: Vec<String>,
    first_time: bool,
}

#[derive(Deserialize, Default)]
pub struct SetupQuery {
    pub recovery: Option<String>,
    pub off: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ConfirmForm {
    pub code: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct IdentityForm {
    /// The current password (or, for a user without one, a code).
    pub current_password: String,
}

async fn setup_page(
    current: &CurrentUser,
    session: &Session,
    state: &AppState,
) -> AppResult<SetupPage> {
    let t = current.tr;
    let user = &current.user;
    let required =
        crate::policy::must_use_two_factor(security::rule_of(&current.org), &current.actor);
    let (qr_svg, secret, codes_left) = match user.two_factor_since {
        Some(_) => {
            let id = user.id;
            let left = state
                .db(move |conn| Ok(two_factor::unused_recovery_codes(conn, id)?))
                .await?;
            (String::new(), String::new(), left)
        }
        None => {
            let secret = match session.get::<String>(SESSION_SETUP_SECRET).ok().flatten() {
                Some(secret) => secret,
                None => {
                    let secret = totp::new_secret();
                    session.insert(SESSION_SETUP_SECRET, &secret)?;
                    secret
                }
            };
            let url = totp::provisioning_url(&secret, &current.org.name, &user.email)
                .ok_or_else(|| AppError::Internal("TOTP provisioning URL".into()))?;
            let svg = totp::qr_svg(&url, t.get("two_factor.qr_label"))
                .ok_or_else(|| AppError::Internal("QR code".into()))?;
            (svg, totp::grouped(&secret), 0)
        }
    };
    Ok(SetupPage {
        ctx: Ctx::for_user(current, "profile"),
        on_since: user
            .two_factor_since
            .map(|at| crate::pages::format_local_date(at, current.tz, t)),
        required,
        qr_svg,
        secret,
        codes_left,
        has_password: user.has_password(),
        errors: FieldErrors::default(),
        notice: None,
    })
}

pub async fn show_setup(
    current: CurrentUser,
    session: Session,
    state: web::Data<AppState>,
    query: web::Query<SetupQuery>,
) -> AppResult<HttpResponse> {
    let mut page = setup_page(&current, &session, &state).await?;
    page.notice = if query.recovery.is_some() {
        Some("two_factor.signed_in_with_recovery")
    } else if query.off.is_some() {
        Some("two_factor.turned_off")
    } else {
        None
    };
    html_with_status(&page, StatusCode::OK)
}

pub async fn confirm_setup(
    req: HttpRequest,
    current: CurrentUser,
    session: Session,
    state: web::Data<AppState>,
    form: web::Form<ConfirmForm>,
) -> AppResult<HttpResponse> {
    let Some(secret) = session.get::<String>(SESSION_SETUP_SECRET).ok().flatten() else {
        return Ok(redirect(SETUP_PATH));
    };
    let by = current.audit_actor(&req);
    let (user, code, now) = (current.user.clone(), form.code.clone(), state.clock.now());
    let secret_key = state.config.secret_key.clone();
    let written = crate::web::write(&state, move |conn| {
        security::enable(conn, &by, &user, &secret, &code, &secret_key, now)
    })
    .await?;
    match written {
        Ok(codes) => {
            session.remove(SESSION_SETUP_SECRET);
            codes_page(&current, codes, true)
        }
        Err(fields) => {
            let mut page = setup_page(&current, &session, &state).await?;
            page.errors = fields.messages(current.tr);
            html_with_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

fn codes_page(
    current: &CurrentUser,
    codes: Vec<String>,
    first_time: bool,
) -> AppResult<HttpResponse> {
    html_with_status(
        &CodesPage {
            ctx: Ctx::for_user(current, "profile"),
            codes,
            first_time,
        },
        StatusCode::OK,
    )
}

/// The password, or — for a user who signs in only through the identity
/// provider and has none — a current code.
async fn identity_confirmed(
    current: &CurrentUser,
    state: &AppState,
    typed: &str,
) -> AppResult<bool> {
    match current
        .user
        .password_hash
        .as_ref()
        .filter(|_| current.user.has_password())
    {
        Some(hash) => auth::verify_password(typed.to_string(), hash.clone()).await,
        None => {
            let (user, typed, now) = (current.user.clone(), typed.to_string(), state.clock.now());
            let secret_key = state.config.secret_key.clone();
            let used = state
                .db(move |conn| {
                    Ok(write_transaction(conn, |conn| {
                        security::verify(conn, &user, &typed, &secret_key, now)
                    })?)
                })
                .await?;
            Ok(used.is_some())
        }
    }
}

/// The setup page with "wrong password" (or code) when the form does not
/// confirm who is asking; `None` when it does.
async fn unconfirmed(
    current: &CurrentUser,
    session: &Session,
    state: &AppState,
    form: &IdentityForm,
) -> AppResult<Option<HttpResponse>> {
    if identity_confirmed(current, state, &form.current_password).await? {
        return Ok(None);
    }
    let mut page = setup_page(current, session, state).await?;
    let key = if current.user.has_password() {
        "profile.wrong_password"
    } else {
        "two_factor.wrong_code"
    };
    page.errors.add("current_password", current.tr.get(key));
    html_with_status(&page, StatusCode::UNPROCESSABLE_ENTITY).map(Some)
}

pub async fn regenerate_codes(
    req: HttpRequest,
    current: CurrentUser,
    session: Session,
    state: web::Data<AppState>,
    form: web::Form<IdentityForm>,
) -> AppResult<HttpResponse> {
    if let Some(refused) = unconfirmed(&current, &session, &state, &form).await? {
        return Ok(refused);
    }
    let by = current.audit_actor(&req);
    let (user, now) = (current.user.clone(), state.clock.now());
    let codes = crate::web::write(&state, move |conn| {
        security::regenerate_recovery_codes(conn, &by, &user, now)
    })
    .await?
    .map_err(|_| AppError::BadRequest("two-factor sign-in is off".into()))?;
    codes_page(&current, codes, false)
}

pub async fn disable(
    req: HttpRequest,
    current: CurrentUser,
    session: Session,
    state: web::Data<AppState>,
    form: web::Form<IdentityForm>,
) -> AppResult<HttpResponse> {
    if let Some(refused) = unconfirmed(&current, &session, &state, &form).await? {
        return Ok(refused);
    }
    let by = current.audit_actor(&req);
    let (actor, org, user, now) = (
        current.actor.clone(),
        current.org.clone(),
        current.user.clone(),
        state.clock.now(),
    );
    crate::web::write(&state, move |conn| {
        security::disable(conn, &by, &actor, &org, &user, now)
    })
    .await?
    .map_err(|_| AppError::BadRequest("two-factor sign-in".into()))?;
    Ok(redirect(&format!("{SETUP_PATH}?off=1")))
}

/// An admin resets someone's second factor (Settings > Users > the user).
pub async fn reset(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let caller = current.caller(&state, &req);
    let (target, now) = (*id, state.clock.now());
    crate::web::write(&state, move |conn| {
        security::reset(conn, &caller.by(), target, now)
    })
    .await?
    .map_err(|_| AppError::BadRequest("reset".into()))?;
    Ok(redirect(&format!(
        "/settings/users/{target}?notice=two_factor_reset"
    )))
}
