//! Sign-in and sign-out.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use crate::auth::{self, CurrentUser, throttle};
use crate::error::{AppError, AppResult};
use crate::models::login_failure;
use crate::models::org::OrgSettings;
use crate::models::user::{AccessState, User};
use crate::pages::{Ctx, html_with_status};
use crate::state::AppState;
use actix_web::http::StatusCode;

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    pub next: Option<String>,
    pub signed_out: Option<String>,
    /// A second-factor step that took too long.
    pub expired: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginForm {
    pub email: String,
    pub password: String,
    pub next: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/login.html")]
pub struct LoginPage {
    ctx: Ctx,
    email: String,
    next: String,
    error: Option<String>,
    notice: Option<&'static str>,
    /// "Sign in with …" when single sign-on is configured.
    sso_label: Option<String>,
    /// Passwords are off (but for the owner): the form is folded away.
    sso_only: bool,
}

/// What the sign-in page needs of the organisation: its name and the
/// single sign-on button.
pub struct LoginSettings {
    pub org_name: String,
    pub sso_label: Option<String>,
    pub sso_only: bool,
}

/// The organisation's name for pages seen before signing in.
pub async fn org_name(state: &AppState) -> AppResult<String> {
    Ok(state
        .db(|conn| Ok(OrgSettings::find(conn)?))
        .await?
        .map_or_else(|| "Confer".into(), |o| o.name))
}

pub async fn login_settings(state: &AppState) -> AppResult<LoginSettings> {
    let org = state.db(|conn| Ok(OrgSettings::find(conn)?)).await?;
    let provider = org
        .as_ref()
        .and_then(|org| crate::sso::Provider::configured(&state.config, org));
    Ok(LoginSettings {
        org_name: org
            .as_ref()
            .map(|o| o.name.clone())
            .unwrap_or_else(|| "Confer".into()),
        sso_only: provider.is_some() && org.is_some_and(|o| o.sso_only),
        sso_label: provider.map(|p| p.label),
    })
}

impl LoginPage {
    /// The sign-in page with an error (the SSO callback shows its
    /// refusals here too).
    pub fn with_error(ctx: Ctx, settings: LoginSettings, next: String, error: String) -> Self {
        LoginPage {
            ctx,
            email: String::new(),
            next,
            error: Some(error),
            notice: None,
            sso_label: settings.sso_label,
            sso_only: settings.sso_only,
        }
    }
}

pub async fn show_login(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<LoginQuery>,
) -> AppResult<LoginPage> {
    let settings = login_settings(&state).await?;
    let ctx = Ctx::for_visitor(&req, settings.org_name);
    let notice = if query.signed_out.is_some() {
        Some(ctx.t.get("login.signed_out"))
    } else if query.expired.is_some() {
        Some(ctx.t.get("two_factor.expired"))
    } else {
        None
    };
    Ok(LoginPage {
        ctx,
        email: String::new(),
        next: crate::web::safe_next(query.next.as_deref()),
        error: None,
        notice,
        sso_label: settings.sso_label,
        sso_only: settings.sso_only,
    })
}

pub async fn login(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    form: web::Form<LoginForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let settings = login_settings(&state).await?;
    let (sso_label, sso_only) = (settings.sso_label.clone(), settings.sso_only);
    let ctx = Ctx::for_visitor(&req, settings.org_name);
    let t = ctx.t;
    let next = crate::web::safe_next(form.next.as_deref());
    let ip = crate::net::client_ip_text(&req);
    let account_scope = throttle::account_scope(&form.email);
    let ip_scope = throttle::ip_scope(&ip);
    let now = state.clock.now();
    let email = form.email.clone();
    let scopes = (account_scope.clone(), ip_scope.clone());
    let (account_locked, address_suspect, user, org) = state
        .db(move |conn| {
            let account =
                throttle::locked_for(conn, &[(scopes.0, throttle::MAX_PER_ACCOUNT)], now)?;
            let address = throttle::locked_for(conn, &[(scopes.1, throttle::MAX_PER_IP)], now)?;
            Ok((
                account,
                address.is_some(),
                User::find_by_email(conn, &email)?,
                OrgSettings::find(conn)?,
            ))
        })
        .await?;
    let page = |ctx: Ctx, error: String| LoginPage {
        ctx,
        email: form.email.clone(),
        next: next.clone(),
        error: Some(error),
        notice: None,
        sso_label: sso_label.clone(),
        sso_only,
    };
    if let Some(minutes) = account_locked {
        let message = t.fmt("login.throttled", &[("minutes", &minutes.to_string())]);
        return html_with_status(&page(ctx, message), StatusCode::TOO_MANY_REQUESTS);
    }
    if address_suspect {
        // Many failures from this address: slow every attempt from it, and
        // let only a correct password through.
        actix_web::rt::time::sleep(throttle::SUSPECT_DELAY).await;
    }
    let hash = match user.as_ref().and_then(|u| u.password_hash.clone()) {
        Some(hash) => hash,
        None => state.dummy_hash().await?,
    };
    let password_ok = auth::verify_password(form.password.clone(), hash).await?
        && user.as_ref().is_some_and(|u| u.password_hash.is_some());
    let scopes = [account_scope, ip_scope];
    let (Some(user), Some(org), true) = (user, org, password_ok) else {
        state
            .db(move |conn| {
                for scope in &scopes {
                    login_failure::record(conn, scope, now)?;
                }
                login_failure::prune(conn, now, chrono::Duration::days(1))?;
                Ok(())
            })
            .await?;
        if address_suspect {
            let minutes = throttle::WINDOW_MINUTES.to_string();
            let message = t.fmt("login.throttled_address", &[("minutes", &minutes)]);
            return html_with_status(&page(ctx, message), StatusCode::TOO_MANY_REQUESTS);
        }
        let message = t.get("login.invalid").to_string();
        return html_with_status(&page(ctx, message), StatusCode::UNAUTHORIZED);
    };
    let message = match user.access_state(org.today(now)) {
        AccessState::Allowed => None,
        AccessState::Deactivated => Some(t.get("login.deactivated").to_string()),
        AccessState::NoPassword => Some(t.get("login.invalid").to_string()),
        AccessState::WindowNotStarted(date) => Some(t.fmt(
            "login.window_not_started",
            &[("date", &crate::pages::format_date(date, t))],
        )),
        AccessState::WindowEnded(date) => Some(t.fmt(
            "login.window_ended",
            &[("date", &crate::pages::format_date(date, t))],
        )),
    };
    if let Some(message) = message {
        return html_with_status(&page(ctx, message), StatusCode::FORBIDDEN);
    }
    let account = throttle::account_scope(&user.email);
    let id = user.id;
    let actor = state
        .db(move |conn| {
            login_failure::clear(conn, &account)?;
            Ok(User::load_actor(conn, id)?.map(|(_, _, actor)| actor))
        })
        .await?
        .ok_or(AppError::NotFound)?;
    if !crate::policy::may_use_password(sso_only, &actor) {
        let message = t.get("login.sso_only").to_string();
        return html_with_status(&page(ctx, message), StatusCode::FORBIDDEN);
    }
    crate::handlers::two_factor::after_first_factor(&req, &session, &state, &user, &org, &next)
        .await
}

#[derive(Template, WebTemplate)]
#[template(path = "pages/logout.html")]
pub struct LogoutPage {
    ctx: Ctx,
}

pub async fn show_logout(current: CurrentUser) -> LogoutPage {
    LogoutPage {
        ctx: Ctx::for_user(&current, ""),
    }
}

pub async fn logout(session: Session) -> HttpResponse {
    auth::sign_out(&session);
    crate::web::redirect("/login?signed_out=1")
}
