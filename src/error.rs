//! One error type for handlers. Which variant to use:
//! - `NotFound`: the thing does not exist *or the user may not know it does*;
//! - `Forbidden`: the user is known and the policy refused the action;
//! - `LoginRequired`: no valid session — redirects to the sign-in page;
//! - `TwoFactorSetupRequired`: the organisation requires a second factor
//!   this user has not set up — redirects to its setup page;
//! - `Csrf`: a state-changing request without the right token;
//! - `BadRequest`, `MethodNotAllowed`, `PayloadTooLarge`: a request that
//!   cannot be read as sent (the page says what to change);
//! - `Internal`: anything unexpected; logged in full, shown as a plain 500.
//!
//! Validation problems are not errors: the handler re-renders its form with
//! the messages and the user's input.

use actix_web::http::StatusCode;

/// Where a user sets up their second factor: the one page open to someone
/// the organisation requires one of, until they have.
pub const TWO_FACTOR_SETUP_PATH: &str = "/profile/two-factor";

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};

use crate::policy::Denied;

#[derive(Debug)]
pub enum AppError {
    NotFound,
    Forbidden(String),
    LoginRequired {
        next: String,
    },
    TwoFactorSetupRequired,
    Csrf,
    BadRequest(String),
    MethodNotAllowed,
    PayloadTooLarge {
        limit_kib: usize,
    },
    /// A search longer than `max` characters.
    SearchTooLong {
        max: usize,
    },
    Internal(String),
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotFound => write!(f, "not found"),
            Self::Forbidden(why) => write!(f, "forbidden: {why}"),
            Self::LoginRequired { .. } => write!(f, "sign-in required"),
            Self::TwoFactorSetupRequired => write!(f, "two-factor setup required"),
            Self::Csrf => write!(f, "missing or invalid CSRF token"),
            Self::BadRequest(why) => write!(f, "bad request: {why}"),
            Self::MethodNotAllowed => write!(f, "method not allowed"),
            Self::PayloadTooLarge { limit_kib } => write!(f, "body over {limit_kib} KiB"),
            Self::SearchTooLong { max } => write!(f, "search text over {max} characters"),
            Self::Internal(detail) => write!(f, "internal error: {detail}"),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Forbidden(_) | Self::Csrf => StatusCode::FORBIDDEN,
            Self::LoginRequired { .. } | Self::TwoFactorSetupRequired => StatusCode::SEE_OTHER,
            Self::BadRequest(_) | Self::SearchTooLong { .. } => StatusCode::BAD_REQUEST,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The body is filled in by `pages::errors::render` (ErrorHandlers), which
    /// knows the reader's language; here only the status and a marker.
    fn error_response(&self) -> HttpResponse {
        match self {
            Self::LoginRequired { next } => {
                let location = format!("/login?next={}", crate::urlencoded::url_encode(next));
                HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, location))
                    .finish()
            }
            Self::TwoFactorSetupRequired => HttpResponse::SeeOther()
                .insert_header((header::LOCATION, TWO_FACTOR_SETUP_PATH))
                .finish(),
            Self::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                let mut response = HttpResponse::new(self.status_code());
                response.extensions_mut().insert(ErrorKind::Internal);
                response
            }
            other => {
                match other {
                    Self::Forbidden(why) => tracing::info!(reason = %why, "forbidden"),
                    Self::BadRequest(why) => tracing::info!(reason = %why, "bad request"),
                    _ => {}
                }
                let mut response = HttpResponse::new(self.status_code());
                response.extensions_mut().insert(match other {
                    Self::Csrf => ErrorKind::Csrf,
                    Self::NotFound => ErrorKind::NotFound,
                    Self::BadRequest(_) => ErrorKind::BadRequest,
                    Self::SearchTooLong { max } => ErrorKind::SearchTooLong { max: *max },
                    Self::MethodNotAllowed => ErrorKind::MethodNotAllowed,
                    Self::PayloadTooLarge { limit_kib } => ErrorKind::TooLarge {
                        limit_kib: *limit_kib,
                    },
                    _ => ErrorKind::Forbidden,
                });
                response
                    .headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                response
            }
        }
    }
}

/// Which error page to render; stored in the response's extensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    Forbidden,
    Csrf,
    BadRequest,
    MethodNotAllowed,
    TooLarge { limit_kib: usize },
    SearchTooLong { max: usize },
    Internal,
}

impl AppError {
    /// For JSON clients: the status, code and message of a request that
    /// cannot be read as sent (the refusals `input` makes before routing).
    pub fn request_problem(&self) -> Option<(StatusCode, &'static str, String)> {
        match self {
            Self::BadRequest(why) => Some((StatusCode::BAD_REQUEST, "bad_request", why.clone())),
            Self::MethodNotAllowed => Some((
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "This method is not allowed here.".into(),
            )),
            Self::PayloadTooLarge { limit_kib } => Some((
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("The body is larger than {limit_kib} KiB."),
            )),
            Self::SearchTooLong { max } => Some((
                StatusCode::BAD_REQUEST,
                "search_too_long",
                format!("Search for at most {max} characters."),
            )),
            _ => None,
        }
    }
}

/// The JSON error shape, `{"error": {"code", "message", "details"}}`: the
/// API's, and that of refusals made before a request reaches it.
pub fn json_error(
    status: StatusCode,
    code: &str,
    message: &str,
    details: &serde_json::Value,
) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({
            "error": { "code": code, "message": message, "details": details }
        }))
}

/// A row that is not there (`first`, `get_result`) is a 404, never a 500.
impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::NotFound => Self::NotFound,
            e => Self::Internal(format!("database: {e}")),
        }
    }
}

/// A value that cannot be serialised (an audit entry's before/after) is a
/// bug, never a silent `null`.
impl From<serde_json::Error> for AppError {
    fn from(e: serde_json::Error) -> Self {
        Self::Internal(format!("serialising: {e}"))
    }
}

impl From<r2d2::Error> for AppError {
    fn from(e: r2d2::Error) -> Self {
        Self::Internal(format!("database pool: {e}"))
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        Self::Internal(format!("blocking task: {e}"))
    }
}

impl From<Denied> for AppError {
    fn from(d: Denied) -> Self {
        Self::Forbidden(format!("{:?} refused by {:?}", d.action, d.rule))
    }
}

impl From<actix_session::SessionInsertError> for AppError {
    fn from(e: actix_session::SessionInsertError) -> Self {
        Self::Internal(format!("session: {e}"))
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        Self::Internal(format!("template: {e}"))
    }
}

pub type AppResult<T> = Result<T, AppError>;
