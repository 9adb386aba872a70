//! Sign-in and sign-out.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use crate::auth::{self, CurrentUser, throttle};
use crate::error::AppResult;
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
}

async fn org_name(state: &AppState) -> AppResult<String> {
    Ok(state
        .db(|conn| Ok(OrgSettings::find(conn)?))
        .await?
        .map(|o| o.name)
        .unwrap_or_else(|| "Confer".into()))
}

pub async fn show_login(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<LoginQuery>,
) -> AppResult<LoginPage> {
    let ctx = Ctx::for_visitor(&req, org_name(&state).await?);
    let notice = query
        .signed_out
        .as_ref()
        .map(|_| ctx.t.get("login.signed_out"));
    Ok(LoginPage {
        ctx,
        email: String::new(),
        next: crate::web::safe_next(query.next.as_deref()),
        error: None,
        notice,
    })
}

pub async fn login(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    form: web::Form<LoginForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let ctx = Ctx::for_visitor(&req, org_name(&state).await?);
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
            &[("date", &date.format("%Y-%m-%d").to_string())],
        )),
        AccessState::WindowEnded(date) => Some(t.fmt(
            "login.window_ended",
            &[("date", &date.format("%Y-%m-%d").to_string())],
        )),
    };
    if let Some(message) = message {
        return html_with_status(&page(ctx, message), StatusCode::FORBIDDEN);
    }
    let account = throttle::account_scope(&user.email);
    state
        .db(move |conn| Ok(login_failure::clear(conn, &account)?))
        .await?;
    auth::sign_in(&session, &user, user.lang(&org))?;
    tracing::info!(user_id = user.id, "signed in");
    Ok(crate::web::redirect(&next))
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
