//! SCIM's error shape (RFC 7644 §3.12): every failure below `/scim/v2`
//! answers `{"schemas":[…Error],"status":"400","scimType":…,"detail":…}`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde_json::{Value, json};

use crate::api::ApiError;
use crate::services::users::{Outcome, Refusal};

pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

#[derive(Debug)]
pub struct ScimError {
    pub status: StatusCode,
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

pub type ScimResult<T> = Result<T, ScimError>;

impl ScimError {
    pub fn new(
        status: StatusCode,
        scim_type: Option<&'static str>,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            scim_type,
            detail: detail.into(),
        }
    }

    /// 400 with one of RFC 7644's `scimType`s (invalidFilter, invalidValue…).
    pub fn bad(scim_type: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some(scim_type), detail)
    }

    pub fn unauthorized(detail: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, None, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, None, detail)
    }

    pub fn uniqueness(detail: &str) -> Self {
        Self::new(StatusCode::CONFLICT, Some("uniqueness"), detail)
    }

    /// The Owner is changed only by an ownership transfer in Confer itself.
    pub fn owner_protected() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            Some("mutability"),
            "The Owner is not managed by SCIM: ownership moves only by a transfer in Confer.",
        )
    }

    /// 405 for a method an endpoint does not answer (the `Allow` header
    /// names the ones it does).
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            None,
            "This endpoint only answers GET.",
        )
    }

    pub fn precondition_failed() -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            None,
            "The resource changed since the version in If-Match.",
        )
    }

    fn internal(detail: String) -> Self {
        tracing::error!(error = %detail, "SCIM internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            None,
            "Something went wrong on our side; it has been logged.",
        )
    }

    pub fn body(&self) -> Value {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.as_u16().to_string(),
            "detail": self.detail,
        });
        if let Some(scim_type) = self.scim_type {
            body["scimType"] = json!(scim_type);
        }
        body
    }
}

impl std::fmt::Display for ScimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:?}: {}", self.status, self.scim_type, self.detail)
    }
}

impl ResponseError for ScimError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = super::scim_json(self.status, &self.body());
        if self.status == StatusCode::METHOD_NOT_ALLOWED {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET"));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"confer-scim\""),
            );
        }
        response
    }
}

impl From<diesel::result::Error> for ScimError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::NotFound => Self::not_found("No such resource."),
            e => Self::internal(format!("database: {e}")),
        }
    }
}

/// A policy refusal: anything touching the Owner is `mutability` (the Owner
/// is not SCIM's to change), anything else a plain 403 naming the rule.
impl From<crate::policy::ManageRule> for ScimError {
    fn from(rule: crate::policy::ManageRule) -> Self {
        match rule {
            crate::policy::ManageRule::OwnerProtected => Self::owner_protected(),
            other => Self::new(
                StatusCode::FORBIDDEN,
                None,
                format!("The policy refuses this ({}).", other.key()),
            ),
        }
    }
}

impl From<crate::policy::Denied> for ScimError {
    fn from(denied: crate::policy::Denied) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            None,
            format!("The policy refuses this ({:?}).", denied.rule),
        )
    }
}

impl From<r2d2::Error> for ScimError {
    fn from(e: r2d2::Error) -> Self {
        Self::internal(format!("database pool: {e}"))
    }
}

impl From<actix_web::error::BlockingError> for ScimError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        Self::internal(format!("blocking task: {e}"))
    }
}

/// The JSON API's field checks (shared through `api::directory::user_input`)
/// become `invalidValue`, naming each field and its problem.
impl From<ApiError> for ScimError {
    fn from(e: ApiError) -> Self {
        // Field problems and fields naming what does not exist alike: the
        // SCIM resource is there, its attribute value is not valid.
        if e.status == StatusCode::UNPROCESSABLE_ENTITY || e.details.get("fields").is_some() {
            let fields = e.details["fields"].as_object().map(|fields| {
                fields
                    .iter()
                    .map(|(field, messages)| {
                        let messages: Vec<&str> = messages
                            .as_array()
                            .map(|m| m.iter().filter_map(Value::as_str).collect())
                            .unwrap_or_default();
                        format!("{}: {}", scim_name(field), messages.join("; "))
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            });
            return Self::bad("invalidValue", fields.unwrap_or(e.message));
        }
        if e.status.is_server_error() {
            return Self::internal(e.message);
        }
        Self::new(e.status, None, e.message)
    }
}

/// The SCIM attribute a `UserFields` field comes from, for error details.
fn scim_name(field: &str) -> &str {
    match field {
        "name" => "displayName",
        "email" => "userName",
        "language" => "preferredLanguage",
        "user_type" => "userType",
        "access_starts" => "accessStarts",
        "access_ends" => "accessEnds",
        other => other,
    }
}

impl From<Outcome> for ScimError {
    fn from(o: Outcome) -> Self {
        match o {
            Outcome::Failed(e) => e.into(),
            Outcome::Denied(d) => d.into(),
            Outcome::Unmanageable(rule) => rule.into(),
            Outcome::Refused(Refusal::EmailTaken) => {
                Self::uniqueness("Another user has this userName (email address).")
            }
            Outcome::Refused(Refusal::UserNameTaken) => {
                Self::uniqueness("Another user has this userName.")
            }
            // The type cannot become Collaborator while every seat is taken.
            Outcome::Refused(Refusal::CollaboratorAllowance(used, allowed)) => Self::new(
                StatusCode::CONFLICT,
                Some("mutability"),
                format!("The organisation has {used} of {allowed} collaborator seats in use."),
            ),
            Outcome::Refused(Refusal::LastAdmin) => Self::new(
                StatusCode::CONFLICT,
                Some("mutability"),
                "The last active admin must stay an active admin.",
            ),
            Outcome::Refused(Refusal::UnknownRole) => {
                Self::bad("invalidValue", "role: no such role")
            }
            Outcome::Refused(Refusal::UnknownTeam) => {
                Self::bad("invalidValue", "groups: no such group")
            }
            Outcome::Refused(Refusal::UnknownAssignee) => Self::bad(
                "invalidValue",
                "no such active user to hand conversations to",
            ),
        }
    }
}
