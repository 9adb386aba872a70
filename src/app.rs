//! The application shared by `main` and the tests: middleware and routes.
//! `build_app` is the one place the HTTP surface is assembled; it is the top
//! of the module graph (nothing below imports it).

use actix_session::SessionMiddleware;
use actix_session::config::{CookieContentSecurity, PersistentSession};
use actix_session::storage::CookieSessionStore;
use actix_web::body::MessageBody;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{DefaultHeaders, ErrorHandlers, from_fn};
use actix_web::{App, Error, HttpMessage, web};

use crate::error::AppError;
use crate::state::AppState;
use crate::{auth, handlers, observe, pages};

/// Content-Security-Policy: no inline script or style, nothing from outside.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
                   base-uri 'none'; object-src 'none'";

/// Threads per server worker for blocking work (database, bcrypt). A
/// request waits for a pooled connection anyway (8 on SQLite, 10 on
/// PostgreSQL): more threads than that only hold memory (actix's default
/// is 512 shared by the workers).
pub const BLOCKING_THREADS_PER_WORKER: usize = 16;

pub fn build_app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = Error,
        InitError = (),
    >,
> {
    let config = state.config.clone();
    let mut headers = DefaultHeaders::new()
        .add((header::CONTENT_SECURITY_POLICY, CSP))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::REFERRER_POLICY, "same-origin"))
        .add((
            "Permissions-Policy",
            "camera=(), microphone=(), geolocation=()",
        ));
    if config.secure_cookies() {
        headers = headers.add((header::STRICT_TRANSPORT_SECURITY, "max-age=31536000"));
    }
    let session = SessionMiddleware::builder(
        CookieSessionStore::default(),
        Key::derive_from(&config.secret_key),
    )
    .cookie_name("confer_session".into())
    .cookie_content_security(CookieContentSecurity::Private)
    .cookie_http_only(true)
    .cookie_same_site(SameSite::Lax)
    .cookie_secure(config.secure_cookies())
    .session_lifecycle(
        PersistentSession::default().session_ttl(actix_web::cookie::time::Duration::days(14)),
    )
    .build();

    App::new()
        .app_data(web::Data::new(config.trusted_proxies.clone()))
        .app_data(state)
        .app_data(web::FormConfig::default().limit(256 * 1024))
        .configure(crate::api::routes)
        .configure(crate::scim::routes)
        .configure(handlers::routes)
        .default_service(web::to(|| async {
            Err::<actix_web::HttpResponse, _>(AppError::NotFound)
        }))
        .wrap(from_fn(count_refusals))
        .wrap(from_fn(auth::csrf_guard))
        .wrap(from_fn(crate::input::clean_request))
        .wrap(from_fn(auth::setup_gate))
        .wrap(ErrorHandlers::new().default_handler(pages::render_error_page))
        .wrap(session)
        .wrap(headers)
        .wrap(from_fn(observe::request_log))
        .wrap(from_fn(close_when_draining))
}

/// Counts a collaborator's attempt to change a conversation (or reach its
/// customer) that the policy refused — in the browser or through the API,
/// whichever handler refused it (`models::refused`). Inside the CSRF guard:
/// a forged request is no attempt of theirs.
async fn count_refusals(
    req: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let changes = !matches!(
        *req.method(),
        actix_web::http::Method::GET | actix_web::http::Method::HEAD
    ) && (req.path().starts_with("/conversations")
        || req.path().starts_with("/api/v1/conversations"));
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let res = next.call(req).await?;
    if !changes || res.status() != actix_web::http::StatusCode::FORBIDDEN {
        return Ok(res);
    }
    let who = res
        .request()
        .extensions()
        .get::<auth::CollaboratorRequest>()
        .copied();
    if let (Some(who), Some(state)) = (who, state) {
        let request = res.request();
        let action = format!(
            "{} {}",
            request.method(),
            request
                .match_pattern()
                .unwrap_or_else(|| request.path().to_string())
        );
        let now = state.clock.now();
        let recorded = state
            .db(move |conn| {
                Ok(crate::models::refused::record(
                    conn,
                    who.user_id,
                    who.channel,
                    &action,
                    now,
                )?)
            })
            .await;
        if let Err(e) = recorded {
            tracing::warn!(error = %e, "a refused attempt could not be counted");
        }
    }
    Ok(res)
}

/// While the server drains before a shutdown, answers carry `Connection:
/// close`, so clients stop reusing connections that are about to go.
async fn close_when_draining(
    req: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let draining = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|state| state.is_draining());
    let mut response = next.call(req).await?;
    if draining {
        response
            .response_mut()
            .head_mut()
            .set_connection_type(actix_web::http::ConnectionType::Close);
    }
    Ok(response)
}
