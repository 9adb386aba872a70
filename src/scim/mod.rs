//! SCIM 2.0 provisioning (RFC 7643/7644) at `/scim/v2`: an identity
//! provider (Entra ID, Okta…) creates, updates and deactivates users and
//! manages teams as groups. It authenticates with the organisation's SCIM
//! token and acts as "SCIM provisioning" in the audit log and as
//! `policy::Actor::provisioning` to the policy, which decides every write
//! (so the owner rules live there); user changes go through `admin` exactly
//! as the Settings pages' do.

mod discovery;
mod error;
pub mod filter;
mod groups;
mod users;

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use chrono::NaiveDateTime;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::db::DbConn;
use crate::models::audit::AuditActor;
use crate::models::org::OrgSettings;
use crate::state::AppState;

pub use error::{ScimError, ScimResult};

pub const CONTENT_TYPE: &str = "application/scim+json";
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// The largest request body taken.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Page sizes: `count` defaults to 100 and may be up to 200.
pub const DEFAULT_COUNT: usize = 100;
pub const MAX_COUNT: usize = 200;

/// Mounts `/scim/v2`; anything else below it is a SCIM 404.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/scim/v2")
            .service(discovery(
                "/ServiceProviderConfig",
                discovery::service_provider_config,
            ))
            .service(discovery("/ResourceTypes", discovery::resource_types))
            .service(discovery("/ResourceTypes/{name}", discovery::resource_type))
            .service(discovery("/Schemas", discovery::schemas))
            .service(discovery("/Schemas/{urn}", discovery::schema))
            .route("/Users", web::get().to(users::list))
            .route("/Users", web::post().to(users::create))
            .route("/Users/{id}", web::get().to(users::show))
            .route("/Users/{id}", web::put().to(users::replace))
            .route("/Users/{id}", web::patch().to(users::patch))
            .route("/Users/{id}", web::delete().to(users::delete))
            .route("/Groups", web::get().to(groups::list))
            .route("/Groups", web::post().to(groups::create))
            .route("/Groups/{id}", web::get().to(groups::show))
            .route("/Groups/{id}", web::put().to(groups::replace))
            .route("/Groups/{id}", web::patch().to(groups::patch))
            .route("/Groups/{id}", web::delete().to(groups::delete))
            .default_service(web::to(|| async {
                ScimError::not_found("No such SCIM endpoint (or not with this method).")
                    .error_response()
            })),
    );
}

/// A discovery endpoint: GET only (RFC 7644 §4); any other method is 405
/// with `Allow: GET`.
fn discovery<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    web::resource(path)
        .route(web::get().to(handler))
        .default_service(web::to(|| async {
            ScimError::method_not_allowed().error_response()
        }))
}

/// A SCIM JSON response.
pub fn scim_json(status: StatusCode, body: &Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, CONTENT_TYPE))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body.to_string())
}

/// A resource with its `ETag` (the same as its `meta.version`).
pub fn resource_response(status: StatusCode, resource: &Value) -> HttpResponse {
    let mut response = scim_json(status, resource);
    if let Some(version) = resource["meta"]["version"].as_str()
        && let Ok(value) = HeaderValue::from_str(version)
    {
        response.headers_mut().insert(header::ETAG, value);
    }
    if status == StatusCode::CREATED
        && let Some(location) = resource["meta"]["location"].as_str()
        && let Ok(value) = HeaderValue::from_str(location)
    {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// The identity provider behind a valid SCIM token, and what every request
/// needs: the organisation, the audit actor, "now" and the URL prefix of
/// resource locations.
pub struct Provisioner {
    pub org: OrgSettings,
    /// Who SCIM is to the policy: every write asks it (`Actor::provisioning`).
    pub policy: crate::policy::Actor,
    pub actor: AuditActor,
    pub now: NaiveDateTime,
    pub base_url: String,
    pub public_url: String,
}

impl FromRequest for Provisioner {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Ok(authenticate(&req).await?) })
    }
}

async fn authenticate(req: &HttpRequest) -> ScimResult<Provisioner> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ScimError::unauthorized("No application state."))?
        .clone();
    let org = run(&state, |conn| {
        OrgSettings::find(conn)?.ok_or_else(|| ScimError::unauthorized("Confer is not set up."))
    })
    .await?;
    let Some(expected) = org.scim_token_hash.as_deref() else {
        return Err(ScimError::unauthorized(
            "SCIM provisioning is off: no SCIM token is set.",
        ));
    };
    let Some(token) = crate::web::bearer(req) else {
        return Err(ScimError::unauthorized(
            "Send the SCIM token as `Authorization: Bearer <token>`.",
        ));
    };
    if !crate::crypto::secrets_match(&crate::crypto::token_hash(token), expected) {
        return Err(ScimError::unauthorized("The SCIM token is not valid."));
    }
    let public_url = state.config.public_url.clone();
    Ok(Provisioner {
        org,
        policy: crate::policy::Actor::provisioning(),
        actor: AuditActor {
            id: None,
            name: "SCIM provisioning".into(),
            ip: Some(crate::net::client_ip_text(req)),
        },
        now: state.clock.now(),
        base_url: format!("{public_url}/scim/v2"),
        public_url,
    })
}

/// Runs blocking database work on the thread pool.
pub async fn run<T, F>(state: &AppState, work: F) -> ScimResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> ScimResult<T> + Send + 'static,
{
    state.run_db(work).await
}

/// Reads a JSON body sent as `application/scim+json` or `application/json`
/// (or without a type), at most `MAX_BODY_BYTES`.
pub async fn json_body(req: &HttpRequest, payload: web::Payload) -> ScimResult<Value> {
    if let Some(kind) = req.headers().get(header::CONTENT_TYPE) {
        let essence = kind
            .to_str()
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if essence != CONTENT_TYPE && essence != "application/json" {
            return Err(ScimError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                None,
                "Send the body as application/scim+json or application/json.",
            ));
        }
    }
    let body = payload
        .to_bytes_limited(MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            ScimError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                None,
                format!("The body is larger than {MAX_BODY_BYTES} bytes."),
            )
        })?
        .map_err(|e| ScimError::bad("invalidSyntax", e.to_string()))?;
    let value: Value = serde_json::from_slice(&body)
        .map_err(|e| ScimError::bad("invalidSyntax", format!("The body is not JSON: {e}")))?;
    if !value.is_object() {
        return Err(ScimError::bad(
            "invalidSyntax",
            "The body must be a JSON object.",
        ));
    }
    Ok(value)
}

/// A list request's parameters (names are case-insensitive).
pub struct ListQuery {
    pub filter: Option<filter::Filter>,
    pub start_index: usize,
    pub count: usize,
    pub attributes: Attributes,
}

impl ListQuery {
    pub fn parse(req: &HttpRequest) -> ScimResult<Self> {
        let pairs = query_pairs(req)?;
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let number = |name: &str| -> ScimResult<Option<i64>> {
            get(name)
                .map(|v| {
                    v.trim().parse::<i64>().map_err(|_| {
                        ScimError::bad("invalidValue", format!("{name} must be an integer"))
                    })
                })
                .transpose()
        };
        let filter = match get("filter").filter(|f| !f.trim().is_empty()) {
            Some(text) => {
                Some(filter::parse(text).map_err(|e| ScimError::bad("invalidFilter", e.0))?)
            }
            None => None,
        };
        // RFC 7644 §3.4.2.4: a start below 1 is 1, a negative count is 0.
        let start_index = number("startIndex")?.unwrap_or(1).max(1) as usize;
        let count =
            number("count")?.map_or(DEFAULT_COUNT, |c| c.clamp(0, MAX_COUNT as i64) as usize);
        Ok(Self {
            filter,
            start_index,
            count,
            attributes: Attributes::from_pairs(&pairs),
        })
    }

    /// The ListResponse of the resources that match, one page of them.
    pub fn respond(&self, resources: Vec<Value>) -> HttpResponse {
        let matching: Vec<Value> = resources
            .into_iter()
            .filter(|r| self.filter.as_ref().is_none_or(|f| f.matches(r)))
            .collect();
        let total = matching.len();
        let page: Vec<Value> = matching
            .into_iter()
            .skip(self.start_index - 1)
            .take(self.count)
            .map(|r| self.attributes.apply(r))
            .collect();
        scim_json(
            StatusCode::OK,
            &json!({
                "schemas": [LIST_SCHEMA],
                "totalResults": total,
                "startIndex": self.start_index,
                "itemsPerPage": page.len(),
                "Resources": page,
            }),
        )
    }
}

fn query_pairs(req: &HttpRequest) -> ScimResult<Vec<(String, String)>> {
    web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .map_err(|e| ScimError::bad("invalidSyntax", format!("The query is not valid: {e}")))
}

/// `attributes` / `excludedAttributes` (RFC 7644 §3.9), for top-level
/// attributes; `schemas`, `id` and `meta` are always returned.
#[derive(Default)]
pub struct Attributes {
    only: Option<Vec<String>>,
    excluded: Vec<String>,
}

impl Attributes {
    /// Lower-case top-level names: `name.givenName` → `name`, a core
    /// schema's prefix dropped, an extension's attributes kept whole
    /// (`urn:…:user:role`).
    fn names(text: &str) -> Vec<String> {
        text.split(',')
            .map(|name| {
                let name = name.trim().to_ascii_lowercase();
                let name = [
                    "urn:ietf:params:scim:schemas:core:2.0:user:",
                    "urn:ietf:params:scim:schemas:core:2.0:group:",
                ]
                .iter()
                .find_map(|core| name.strip_prefix(core))
                .map_or(name.clone(), str::to_string);
                if name.starts_with("urn:") {
                    name
                } else {
                    name.split('.').next().unwrap_or_default().to_string()
                }
            })
            .filter(|name| !name.is_empty())
            .collect()
    }

    fn from_pairs(pairs: &[(String, String)]) -> Self {
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| Self::names(v))
        };
        Self {
            only: get("attributes"),
            excluded: get("excludedAttributes").unwrap_or_default(),
        }
    }

    pub fn parse(req: &HttpRequest) -> ScimResult<Self> {
        Ok(Self::from_pairs(&query_pairs(req)?))
    }

    pub fn apply(&self, mut resource: Value) -> Value {
        if let Some(map) = resource.as_object_mut() {
            map.retain(|key, _| {
                let key = key.to_ascii_lowercase();
                if matches!(key.as_str(), "schemas" | "id" | "meta") {
                    return true;
                }
                // An extension (keyed by its URN) stays when one of its attributes is asked for.
                let listed = self.only.as_ref().is_none_or(|only| {
                    only.iter()
                        .any(|n| *n == key || n.starts_with(&format!("{key}:")))
                });
                listed && !self.excluded.contains(&key)
            });
        }
        resource
    }
}

/// `W/"…"`: a hash of the representation (without its version).
pub fn version_of(resource: &Value) -> String {
    let digest = Sha256::digest(resource.to_string().as_bytes());
    format!("W/\"{}\"", &hex::encode(digest)[..16])
}

/// The request's `If-Match`, taken along into the database work.
pub fn if_match(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::IF_MATCH)
        .map(|v| v.to_str().unwrap_or_default().to_string())
}

/// Refuses with 412 unless `If-Match` names `*` or the current version
/// (weak and strong forms compare alike).
pub fn check_if_match(if_match: &str, current: &Value) -> ScimResult<()> {
    let strip = |tag: &str| tag.trim().trim_start_matches("W/").to_string();
    let current = strip(current["meta"]["version"].as_str().unwrap_or_default());
    if if_match
        .split(',')
        .any(|tag| tag.trim() == "*" || strip(tag) == current)
    {
        Ok(())
    } else {
        Err(ScimError::precondition_failed())
    }
}

/// The numeric id in a resource path; anything else is not found.
/// A value as a JSON object (bodies, PATCH values without a path).
pub fn object(value: &Value) -> ScimResult<&serde_json::Map<String, Value>> {
    value
        .as_object()
        .ok_or_else(|| ScimError::bad("invalidSyntax", "Expected a JSON object."))
}

pub fn resource_id(text: &str, kind: &str) -> ScimResult<i64> {
    text.parse()
        .map_err(|_| ScimError::not_found(format!("No {kind} with id {text}.")))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    Add,
    Replace,
    Remove,
}

/// One PATCH operation; `op` is read in any case ("Replace", "replace").
pub struct PatchOp {
    pub op: OpKind,
    pub path: Option<filter::PatchPath>,
    /// The unparsed path, to name it in errors.
    pub path_text: String,
    pub value: Option<Value>,
}

pub fn patch_ops(body: &Value) -> ScimResult<Vec<PatchOp>> {
    let Some(operations) = filter::get_ci(body, "Operations").and_then(Value::as_array) else {
        return Err(ScimError::bad(
            "invalidSyntax",
            "A PatchOp needs an `Operations` array.",
        ));
    };
    operations
        .iter()
        .map(|operation| {
            let op = match filter::get_ci(operation, "op")
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                Some("add") => OpKind::Add,
                Some("replace") => OpKind::Replace,
                Some("remove") => OpKind::Remove,
                _ => {
                    return Err(ScimError::bad(
                        "invalidSyntax",
                        "Each operation's `op` is add, replace or remove.",
                    ));
                }
            };
            let path_text = filter::get_ci(operation, "path")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_string);
            let path = path_text
                .as_deref()
                .map(filter::parse_path)
                .transpose()
                .map_err(|e| ScimError::bad("invalidPath", e.0))?;
            let value = filter::get_ci(operation, "value").cloned();
            match (op, &path, &value) {
                (OpKind::Remove, None, _) => Err(ScimError::bad(
                    "noTarget",
                    "A remove operation needs a `path`.",
                )),
                (OpKind::Add | OpKind::Replace, _, None) => Err(ScimError::bad(
                    "invalidValue",
                    "Add and replace operations need a `value`.",
                )),
                (OpKind::Add | OpKind::Replace, None, Some(v)) if !v.is_object() => Err(
                    ScimError::bad("invalidValue", "Without a `path` the value is an object."),
                ),
                _ => Ok(PatchOp {
                    op,
                    path,
                    path_text: path_text.unwrap_or_default(),
                    value,
                }),
            }
        })
        .collect()
}

/// A boolean as identity providers send it: `false` or Entra's `"False"`.
pub fn as_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// RFC 3339 in UTC, as `meta.created` and `meta.lastModified` show times.
pub fn timestamp(at: NaiveDateTime) -> String {
    at.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
