//! "Sign in with …": sends the browser to the identity provider with a
//! fresh state, nonce and PKCE challenge kept in the session, and on its
//! return checks the state, has `sso::finish` verify the ID token, and
//! signs in the user its email names — refused exactly as a password
//! sign-in would be (deactivated, outside a seasonal window), and asked for
//! their second factor if they have one. Every refusal is a message on the
//! sign-in page.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::crypto::secrets_match;
use crate::db::write_transaction;
use crate::error::AppResult;
use crate::handlers::session::{LoginPage, login_settings};
use crate::i18n::Tr;
use crate::models::org::OrgSettings;
use crate::models::user::AccessState;
use crate::pages::{Ctx, html_with_status};
use crate::services::security::{self, SsoRefusal};
use crate::sso::{self, Provider};
use crate::state::AppState;

const SESSION_STATE: &str = "sso_state";
const SESSION_NONCE: &str = "sso_nonce";
const SESSION_VERIFIER: &str = "sso_pkce";
const SESSION_NEXT: &str = "sso_next";

#[derive(Deserialize, Default)]
pub struct StartQuery {
    pub next: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    /// The provider's refusal (`access_denied`, …).
    pub error: Option<String>,
}

fn redirect_url(state: &AppState) -> String {
    format!("{}{}", state.config.public_url, sso::CALLBACK_PATH)
}

async fn provider(state: &AppState) -> AppResult<Option<(Provider, OrgSettings)>> {
    let org = state.db(|conn| Ok(OrgSettings::find(conn)?)).await?;
    Ok(org.and_then(|org| Provider::configured(&state.config, &org).map(|p| (p, org))))
}

/// A refusal for the sign-in page: its message, and the status to send.
struct Refused(Box<dyn FnOnce(Tr) -> String>, StatusCode);

fn refusal(key: &'static str, status: StatusCode) -> Refused {
    Refused(Box::new(move |t| t.get(key).to_string()), status)
}

/// The sign-in page with the refusal's message.
async fn refused(
    req: &HttpRequest,
    state: &AppState,
    next: String,
    Refused(message, status): Refused,
) -> AppResult<HttpResponse> {
    let settings = login_settings(state).await?;
    let ctx = Ctx::for_visitor(req, settings.org_name.clone());
    let text = message(ctx.t);
    html_with_status(&LoginPage::with_error(ctx, settings, next, text), status)
}

pub async fn start(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    query: web::Query<StartQuery>,
) -> AppResult<HttpResponse> {
    let next = crate::web::safe_next(query.next.as_deref());
    let Some((provider, _)) = provider(&state).await? else {
        return Err(crate::error::AppError::NotFound);
    };
    let redirect = redirect_url(&state);
    let started = match web::block(move || sso::start(&provider, &redirect)).await? {
        Ok(started) => started,
        Err(e) => {
            tracing::warn!(error = ?e, "single sign-on could not start");
            let refusal = refusal(e.key(), StatusCode::BAD_GATEWAY);
            return refused(&req, &state, next, refusal).await;
        }
    };
    session.insert(SESSION_STATE, &started.state)?;
    session.insert(SESSION_NONCE, &started.nonce)?;
    session.insert(SESSION_VERIFIER, &started.pkce_verifier)?;
    session.insert(SESSION_NEXT, &next)?;
    Ok(crate::web::redirect(&started.url))
}

pub async fn callback(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    query: web::Query<CallbackQuery>,
) -> AppResult<HttpResponse> {
    let take = |key: &str| -> Option<String> {
        let value = session.get::<String>(key).ok().flatten();
        session.remove(key);
        value
    };
    // Single use: whatever happens next, this attempt's values are gone.
    let attempt = Attempt {
        state: take(SESSION_STATE),
        nonce: take(SESSION_NONCE),
        pkce_verifier: take(SESSION_VERIFIER),
    };
    let next = take(SESSION_NEXT).unwrap_or_else(|| "/".into());
    match returned(&req, &session, &state, &query, attempt, &next).await? {
        Ok(response) => Ok(response),
        Err(refusal) => refused(&req, &state, next, refusal).await,
    }
}

/// What the session kept of the attempt the browser returns from.
struct Attempt {
    state: Option<String>,
    nonce: Option<String>,
    pkce_verifier: Option<String>,
}

/// The provider's answer checked, and the user signed in (or asked for
/// their second factor) — or why not.
async fn returned(
    req: &HttpRequest,
    session: &Session,
    state: &AppState,
    query: &CallbackQuery,
    attempt: Attempt,
    next: &str,
) -> AppResult<Result<HttpResponse, Refused>> {
    if let Some(error) = &query.error {
        tracing::info!(error, "the identity provider refused the sign-in");
        return Ok(Err(refusal(
            "sso.error.provider_refused",
            StatusCode::FORBIDDEN,
        )));
    }
    let state_matches = match (&attempt.state, &query.state) {
        (Some(expected), Some(got)) => secrets_match(expected, got),
        _ => false,
    };
    let (true, Some(nonce), Some(verifier), Some(code)) = (
        state_matches,
        attempt.nonce,
        attempt.pkce_verifier,
        query.code.clone(),
    ) else {
        tracing::warn!("single sign-on returned with a missing or wrong state");
        return Ok(Err(refusal("sso.error.state", StatusCode::BAD_REQUEST)));
    };
    let Some((provider, org)) = provider(state).await? else {
        return Err(crate::error::AppError::NotFound);
    };
    let (redirect, now) = (redirect_url(state), state.clock.now());
    let finished =
        web::block(move || sso::finish(&provider, &redirect, &code, &verifier, &nonce, now))
            .await?;
    let identity = match finished {
        Ok(identity) => identity,
        Err(e) => {
            tracing::warn!(error = ?e, "single sign-on refused");
            return Ok(Err(refusal(e.key(), StatusCode::FORBIDDEN)));
        }
    };
    let org_for_user = org.clone();
    let found = state
        .db(move |conn| {
            Ok(write_transaction(conn, |conn| {
                security::sso_user(
                    conn,
                    &org_for_user,
                    &identity.email,
                    identity.name.as_deref(),
                    now,
                )
            })?)
        })
        .await?;
    let user = match found {
        Ok(user) => user,
        Err(SsoRefusal::UnknownUser) => {
            return Ok(Err(refusal(
                "sso.error.unknown_user",
                StatusCode::FORBIDDEN,
            )));
        }
    };
    // Exactly the rules of a password sign-in.
    let date = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    let message: Option<Box<dyn FnOnce(Tr) -> String>> = match user.access_state(org.today(now)) {
        AccessState::Allowed => None,
        AccessState::Deactivated | AccessState::NoPassword => {
            Some(Box::new(|t| t.get("login.deactivated").to_string()))
        }
        AccessState::WindowNotStarted(d) => Some(Box::new(move |t| {
            t.fmt("login.window_not_started", &[("date", &date(d))])
        })),
        AccessState::WindowEnded(d) => Some(Box::new(move |t| {
            t.fmt("login.window_ended", &[("date", &date(d))])
        })),
    };
    if let Some(message) = message {
        return Ok(Err(Refused(message, StatusCode::FORBIDDEN)));
    }
    let response =
        crate::handlers::two_factor::after_first_factor(req, session, state, &user, &org, next)
            .await?;
    Ok(Ok(response))
}
