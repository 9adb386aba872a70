//! The application shared by `main` and the tests: state, middleware and
//! routes. `build_app` is the one place the HTTP surface is assembled.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use actix_session::SessionMiddleware;
use actix_session::config::{CookieContentSecurity, PersistentSession};
use actix_session::storage::CookieSessionStore;
use actix_web::body::MessageBody;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{DefaultHeaders, ErrorHandlers, from_fn};
use actix_web::{App, Error, web};
use chrono::NaiveDateTime;

use crate::config::Config;
use crate::db::{DbConn, Pool};
use crate::error::{AppError, AppResult};
use crate::{auth, handlers, observe, pages};

/// "Now", shifted by an offset that tests can move (seasonal windows,
/// throttling windows). In production the offset is always zero.
#[derive(Clone, Default)]
pub struct Clock {
    offset_seconds: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> NaiveDateTime {
        chrono::Utc::now().naive_utc()
            + chrono::Duration::seconds(self.offset_seconds.load(Ordering::Relaxed))
    }

    pub fn advance(&self, by: chrono::Duration) {
        self.offset_seconds
            .fetch_add(by.num_seconds(), Ordering::Relaxed);
    }
}

pub struct AppState {
    pub pool: Pool,
    pub config: Arc<Config>,
    pub clock: Clock,
    /// Requests per API token per minute (in this node's memory).
    pub api_limiter: crate::api::RateLimiter,
    /// Once an owner exists it always will; until then every request asks.
    owner_exists: AtomicBool,
    /// A hash at the configured cost to verify against for unknown accounts.
    dummy_hash: std::sync::OnceLock<String>,
    /// Set when the server is shutting down: answers close their connection.
    draining: AtomicBool,
}

impl AppState {
    pub fn new(pool: Pool, config: Config, clock: Clock) -> Self {
        Self {
            pool,
            api_limiter: crate::api::RateLimiter::new(config.api_rate_per_minute),
            config: Arc::new(config),
            clock,
            owner_exists: AtomicBool::new(false),
            dummy_hash: std::sync::OnceLock::new(),
            draining: AtomicBool::new(false),
        }
    }

    /// Runs blocking database work on the thread pool.
    pub async fn db<T, F>(&self, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get()?;
            work(&mut conn)
        })
        .await?
    }

    /// What an unknown account's password is checked against, hashed at the
    /// configured cost so both answers take the same time.
    pub async fn dummy_hash(&self) -> AppResult<String> {
        if let Some(hash) = self.dummy_hash.get() {
            return Ok(hash.clone());
        }
        let hash =
            crate::auth::hash_password(crate::crypto::random_token(), self.config.bcrypt_cost).await?;
        Ok(self.dummy_hash.get_or_init(|| hash).clone())
    }

    /// From now on every answer closes its connection (shutdown is near).
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    pub async fn owner_exists(&self) -> AppResult<bool> {
        if self.owner_exists.load(Ordering::Relaxed) {
            return Ok(true);
        }
        let exists = self
            .db(|conn| Ok(crate::models::user::User::owner_exists(conn)?))
            .await?;
        if exists {
            self.owner_exists.store(true, Ordering::Relaxed);
        }
        Ok(exists)
    }
}

/// Content-Security-Policy: no inline script or style, nothing from outside.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
                   base-uri 'none'; object-src 'none'";

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
        .wrap(from_fn(auth::csrf_guard))
        .wrap(from_fn(crate::input::clean_request))
        .wrap(from_fn(auth::setup_gate))
        .wrap(ErrorHandlers::new().default_handler(pages::render_error_page))
        .wrap(session)
        .wrap(headers)
        .wrap(from_fn(observe::request_log))
        .wrap(from_fn(close_when_draining))
}

/// While the server drains before a shutdown, answers carry `Connection:
/// close`, so clients stop reusing connections that are about to go.
async fn close_when_draining(
    req: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let draining = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|state| state.draining.load(Ordering::Relaxed));
    let mut response = next.call(req).await?;
    if draining {
        response
            .response_mut()
            .head_mut()
            .set_connection_type(actix_web::http::ConnectionType::Close);
    }
    Ok(response)
}
