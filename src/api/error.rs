//! The API's one error shape: `{ "error": { "code", "message", "details" } }`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde_json::{Value, json};

use crate::error::AppError;
use crate::policy::Denied;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Value,
    pub retry_after: Option<u64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: &str) -> Self {
        Self {
            status,
            code,
            message: message.to_string(),
            details: Value::Null,
            retry_after: None,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    pub fn bad_request(code: &'static str, message: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized(code: &'static str, message: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    /// Also what a reader gets for a conversation they may not see: the API
    /// never reveals that it exists.
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "No such resource, or it is not visible to this token.",
        )
    }

    pub fn forbidden(message: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn conflict(code: &'static str, message: &str) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// Field problems: `details.fields` maps each field to its messages.
    pub fn invalid(fields: Vec<(&str, String)>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "Some fields are not valid.",
        )
        .with_fields(fields)
    }

    /// Fields naming something that does not exist (or is not visible):
    /// 409, a conflict with the current state — never 404, which means the
    /// resource in the path is missing — with the fields in `details.fields`.
    pub fn related_not_found(fields: Vec<(&str, String)>) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "related_not_found",
            "A field names something that does not exist or is not visible to this token.",
        )
        .with_fields(fields)
    }

    /// Fields whose value another resource already holds: 409.
    pub fn taken(fields: Vec<(&str, String)>) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "conflict",
            "A value is already used by another resource.",
        )
        .with_fields(fields)
    }

    /// The first of: field problems (422), missing related things (409),
    /// values held elsewhere (409); `Ok` when there are none.
    pub fn check_fields(
        invalid: Vec<(&str, String)>,
        missing: Vec<(&str, String)>,
        taken: Vec<(&str, String)>,
    ) -> Result<(), Self> {
        if !invalid.is_empty() {
            Err(Self::invalid(invalid))
        } else if !missing.is_empty() {
            Err(Self::related_not_found(missing))
        } else if !taken.is_empty() {
            Err(Self::taken(taken))
        } else {
            Ok(())
        }
    }

    fn with_fields(self, fields: Vec<(&str, String)>) -> Self {
        let mut map = serde_json::Map::new();
        for (field, message) in fields {
            let entry = map.entry(field.to_string()).or_insert_with(|| json!([]));
            if let Some(list) = entry.as_array_mut() {
                list.push(json!(message));
            }
        }
        self.with_details(json!({ "fields": map }))
    }

    pub fn response(&self) -> HttpResponse {
        let mut response =
            crate::error::json_error(self.status, self.code, &self.message, &self.details);
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"confer\""),
            );
        }
        response
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        self.response()
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound => Self::not_found(),
            AppError::Forbidden(why) => {
                tracing::info!(reason = %why, "API forbidden");
                Self::forbidden("This token's user may not do this.")
            }
            AppError::LoginRequired { .. } | AppError::TwoFactorSetupRequired | AppError::Csrf => {
                Self::unauthorized("invalid_token", "The token is not valid.")
            }
            AppError::Internal(detail) => Self::internal(detail),
            other => match other.request_problem() {
                Some((status, code, message)) => Self::new(status, code, &message),
                None => Self::internal(format!("unmapped error: {other}")),
            },
        }
    }
}

impl ApiError {
    fn internal(detail: String) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong on our side; it has been logged.",
        )
        .logged(detail)
    }

    /// The detail goes to the log, never to the client.
    fn logged(self, detail: String) -> Self {
        tracing::error!(error = %detail, "API internal error");
        self
    }
}

/// A value that cannot be serialised is a bug, never a silent `null`.
impl From<serde_json::Error> for ApiError {
    fn from(e: serde_json::Error) -> Self {
        Self::internal(format!("serialising: {e}"))
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::NotFound => Self::not_found(),
            e => Self::internal(format!("database: {e}")),
        }
    }
}

impl From<r2d2::Error> for ApiError {
    fn from(e: r2d2::Error) -> Self {
        Self::internal(format!("database pool: {e}"))
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        Self::internal(format!("blocking task: {e}"))
    }
}

/// The policy's refusal, with the rule that made it.
impl From<Denied> for ApiError {
    fn from(d: Denied) -> Self {
        Self::forbidden("This token's user may not do this.").with_details(
            json!({ "rule": format!("{:?}", d.rule), "action": format!("{:?}", d.action) }),
        )
    }
}

impl From<crate::services::Refusal> for ApiError {
    fn from(refusal: crate::services::Refusal) -> Self {
        use crate::services::Refusal;
        match refusal {
            Refusal::Forbidden(denied) => denied.into(),
            Refusal::Rule(key) => Self::forbidden("This token's user may not do this.")
                .with_details(json!({ "rule": key })),
            Refusal::NotFound => Self::not_found(),
            Refusal::Database(e) => e.into(),
            Refusal::Fields(fields) => {
                let [invalid, missing, taken] = fields.english();
                match Self::check_fields(invalid, missing, taken) {
                    Err(e) => e,
                    Ok(()) => Self::invalid(Vec::new()),
                }
            }
        }
    }
}

impl From<crate::services::users::Outcome> for ApiError {
    fn from(o: crate::services::users::Outcome) -> Self {
        use crate::services::users::{Outcome, Refusal};
        match o {
            Outcome::Failed(e) => e.into(),
            Outcome::Denied(d) => d.into(),
            Outcome::Unmanageable(rule) => Self::forbidden(
                "This token's user may not manage this user or give this type or role.",
            )
            .with_details(json!({ "rule": rule.key() })),
            Outcome::Refused(Refusal::UserNameTaken) => {
                Self::conflict("conflict", "Another user has this userName.")
            }
            Outcome::Refused(Refusal::EmailTaken) => {
                Self::conflict("email_taken", "Another user has this email address.")
            }
            Outcome::Refused(Refusal::CollaboratorAllowance(used, allowed)) => Self::conflict(
                "collaborator_allowance",
                &format!("The organisation has {used} of {allowed} collaborator seats in use."),
            ),
            Outcome::Refused(Refusal::LastAdmin) => {
                Self::conflict("last_admin", "The last active admin must stay an admin.")
            }
            Outcome::Refused(Refusal::UnknownRole) => {
                Self::invalid(vec![("role_id", "No such role.".into())])
            }
            Outcome::Refused(Refusal::UnknownTeam) => {
                Self::invalid(vec![("team_ids", "No such team.".into())])
            }
            Outcome::Refused(Refusal::UnknownAssignee) => {
                Self::related_not_found(vec![("reassign_to", "No such active user.".into())])
            }
        }
    }
}

/// A JSON body that could not be read: too large, not JSON, wrong shape.
pub fn body_error(e: actix_web::error::JsonPayloadError) -> ApiError {
    use actix_web::error::JsonPayloadError as E;
    match e {
        E::OverflowKnownLength { .. } | E::Overflow { .. } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            &format!("The body is larger than {} bytes.", super::MAX_BODY_BYTES),
        ),
        E::ContentType => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the body as `Content-Type: application/json`.",
        ),
        E::Deserialize(e) if e.is_data() => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            &format!("The body does not have the expected shape: {e}"),
        ),
        other => ApiError::bad_request(
            "invalid_json",
            &format!("The body is not valid JSON: {other}"),
        ),
    }
}

/// The `Error` component schema.
pub fn schema() -> Value {
    json!({
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "details"],
                "properties": {
                    "code": { "type": "string", "description": "Stable machine-readable code, e.g. `forbidden`, `not_found`, `validation_failed`." },
                    "message": { "type": "string", "description": "A sentence for people." },
                    "details": { "description": "More about the error (field messages, the policy rule), or null." }
                }
            }
        }
    })
}

/// Adds the error responses any operation can give (authentication, policy,
/// visibility, validation, rate limit), unless the annotation described them.
pub fn add_standard_responses(operation: &mut Value, method: &str, path: &str) {
    let error = |description: &str| {
        json!({
            "description": description,
            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
        })
    };
    let mut standard = vec![
        ("400", "The query or body is malformed."),
        (
            "429",
            "Too many requests for this token; see `Retry-After`.",
        ),
    ];
    if path != "/api/v1/openapi.json" {
        standard.push((
            "401",
            "No token, or a token that is revoked, expired or belongs to an inactive user.",
        ));
        standard.push((
            "403",
            "The token's user may not do this (same policy as the web UI).",
        ));
    }
    let writes = method == "post" || method == "patch" || method == "put";
    if path.contains('{') {
        standard.push((
            "404",
            "No such resource, or it is not visible to the token's user.",
        ));
    }
    if writes {
        standard.push((
            "409",
            "Conflicts with the current state: a field names something that does not exist \
             (`related_not_found`) or a value another resource holds (`conflict`), \
             `details.fields` says which; or an idempotency key reused or still running.",
        ));
        standard.push(("413", "The body is too large."));
        standard.push(("415", "The body is not JSON."));
        standard.push((
            "422",
            "The body is well-formed but not valid; `details.fields` says why.",
        ));
    } else {
        standard.push(("422", "A query parameter is not valid."));
    }
    let Some(responses) = operation
        .get_mut("responses")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for (status, description) in standard {
        if !responses.contains_key(status) {
            responses.insert(status.to_string(), error(description));
        }
    }
    if let Some(too_many) = responses.get_mut("429") {
        too_many["headers"] = json!({
            "Retry-After": { "description": "Seconds until the token may ask again.", "schema": { "type": "integer" } }
        });
    }
}
