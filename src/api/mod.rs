//! The JSON API under `/api/v1`. Personal access tokens authenticate; the
//! same `policy` module as the web UI decides (403 with a JSON body when it
//! refuses, 404 for what the token's user may not see). Conventions:
//! errors are `{ "error": { "code", "message", "details" } }`, times are
//! RFC 3339 in UTC, creates answer 201 with `Location`, POSTs honour
//! `Idempotency-Key`, each token has a rate limit (429 + `Retry-After`),
//! bodies are limited in size, and no CORS headers are sent.
//!
//! The route table below is the one list: it registers the handlers, names
//! them in the OpenAPI document (from their `#[utoipa::path]`
//! annotations), and is what the completeness test compares the document
//! with.

mod conversations;
mod customers;
pub mod directory;
mod error;
mod idempotency;
mod kb;
mod notifications;
mod requests;
mod saved_replies;
mod tasks;
mod token_auth;
mod user_batch;

use std::sync::OnceLock;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Value, json};

use crate::db::DbConn;
use crate::state::AppState;

pub use error::{ApiError, ApiResult};

/// What the handlers accept, declared for the OpenAPI document so a client
/// (or a fuzzer) reads the same rules the server applies. The handlers check
/// the values themselves and answer with their own error codes.
pub mod values {
    use serde::Serialize;
    use utoipa::ToSchema;

    // Texts that must not be blank carry the pattern
    // `[^\t\n\u000b\f\r \u0000\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]`:
    // one character that is neither whitespace (as Rust's `trim` counts it)
    // nor NUL (removed on the way in). `Idempotency-Key` headers carry
    // `^[!-~]([ -~]{0,253}[!-~])?$`. (utoipa takes patterns as literals only.)

    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum ConversationStatus {
        Open,
        Pending,
        Snoozed,
        Done,
    }

    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum SnippetKind {
        Reply,
        Note,
    }

    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum ConversationView {
        Asked,
        Mine,
        Unassigned,
        Teams,
        All,
        Mentions,
        Done,
        Trash,
        Spam,
    }

    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum BatchAction {
        Role,
        AddTeams,
        RemoveTeams,
        ConversationAccess,
        UserType,
        ResendInvitation,
        RevokeInvitation,
        Deactivate,
    }

    /// The types a batch sets (seasonal users need their own window).
    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum BatchUserType {
        FullTime,
        Collaborator,
    }

    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum RequestState {
        Open,
        Answered,
        Declined,
        Withdrawn,
    }

    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum ConversationSort {
        Activity,
        Waiting,
        Priority,
    }

    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum Folder {
        Trash,
        Spam,
    }

    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum SearchOrder {
        Newest,
        Relevance,
    }

    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum Priority {
        Low,
        Normal,
        High,
        Urgent,
    }

    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum TaskList {
        Mine,
        Created,
        Done,
    }

    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum TaskStatus {
        Open,
        Done,
    }

    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum ArticleState {
        Draft,
        Published,
    }

    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum UserType {
        FullTime,
        Collaborator,
        Seasonal,
    }

    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum ConversationAccess {
        All,
        Teams,
    }

    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum Language {
        En,
        Es,
        De,
    }
}
pub use token_auth::ApiUser;

/// The largest JSON body taken.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Page sizes: `limit` defaults to 50 and may be up to 100.
pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 100;

macro_rules! api_routes {
    ($( $method:ident $path:literal => $($handler:ident)::+ ; )*) => {
        /// Every API route as (method, path below `/api/v1`).
        pub const ROUTES: &[(&str, &str)] = &[ $( (stringify!($method), $path), )* ];

        fn register(cfg: &mut web::ServiceConfig) {
            $( cfg.route($path, web::$method().to($($handler)::+)); )*
        }

        #[derive(utoipa::OpenApi)]
        #[openapi(
            info(
                title = "Confer API",
                description = "The JSON API of Confer. Authenticate with a personal access token (Profile > API tokens) as `Authorization: Bearer <token>`. The token acts as its user: the same permissions as in the browser.",
            ),
            paths( $( $($handler)::+ ),* ),
            security(("token" = [])),
        )]
        struct ApiDoc;
    };
}

api_routes! {
    get "/openapi.json" => openapi_json;
    get "/me" => directory::me;
    get "/conversations" => conversations::list;
    post "/conversations" => conversations::create;
    get "/conversations/{id}" => conversations::show;
    patch "/conversations/{id}" => conversations::update;
    get "/conversations/{id}/messages" => conversations::messages;
    post "/conversations/{id}/replies" => conversations::reply;
    post "/conversations/{id}/notes" => conversations::note;
    post "/conversations/{id}/requests" => requests::create;
    get "/requests" => requests::list;
    get "/requests/{id}" => requests::show;
    post "/requests/{id}/answer" => requests::answer;
    post "/requests/{id}/decline" => requests::decline;
    post "/requests/{id}/withdraw" => requests::withdraw;
    get "/attachments/{id}" => conversations::attachment;
    get "/customers" => customers::list;
    post "/customers" => customers::create;
    get "/customers/{id}" => customers::show;
    patch "/customers/{id}" => customers::update;
    get "/customers/{id}/notes" => customers::notes;
    post "/customers/{id}/notes" => customers::add_note;
    get "/organizations" => customers::organizations;
    get "/organizations/{id}" => customers::organization;
    get "/organizations/{id}/notes" => customers::organization_notes;
    post "/organizations/{id}/notes" => customers::add_organization_note;
    get "/users" => directory::users;
    post "/users" => directory::create_user;
    post "/users/batch" => user_batch::batch;
    get "/users/{id}" => directory::user;
    patch "/users/{id}" => directory::update_user;
    post "/users/{id}/deactivate" => directory::deactivate_user;
    post "/users/{id}/reactivate" => directory::reactivate_user;
    get "/teams" => directory::teams;
    get "/teams/{id}" => directory::team;
    get "/tasks" => tasks::list;
    post "/tasks" => tasks::create;
    get "/tasks/{id}" => tasks::show;
    patch "/tasks/{id}" => tasks::update;
    post "/tasks/{id}/comments" => tasks::comment;
    get "/kb/articles" => kb::list;
    get "/kb/articles/{id}" => kb::show;
    get "/saved-replies" => saved_replies::list;
    post "/saved-replies" => saved_replies::create;
    get "/saved-replies/{id}" => saved_replies::show;
    patch "/saved-replies/{id}" => saved_replies::update;
    delete "/saved-replies/{id}" => saved_replies::delete;
    get "/search" => conversations::search;
    get "/notifications" => notifications::list;
    post "/notifications/{id}/read" => notifications::mark_read;
}

/// Mounts `/api/v1`: size-limited JSON, JSON errors for bad bodies, queries
/// and paths, and a JSON 404/405 for everything else below it.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .app_data(
                web::JsonConfig::default()
                    .limit(MAX_BODY_BYTES)
                    .error_handler(|e, _| error::body_error(e).into()),
            )
            .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
            .app_data(web::QueryConfig::default().error_handler(|e, _| {
                ApiError::bad_request("invalid_query", &e.to_string()).into()
            }))
            .app_data(web::PathConfig::default().error_handler(|e, req| {
                // `/users/batch` with a method it does not take reaches
                // `/users/{id}`, whose id it is not: a 405, not a 404.
                if written_out(api_path(req)) {
                    actix_web::error::InternalError::from_response(e, no_route_response(req)).into()
                } else {
                    ApiError::not_found().into()
                }
            }))
            .configure(register)
            .default_service(web::to(no_route)),
    );
}

/// The path below `/api/v1`.
fn api_path(req: &HttpRequest) -> &str {
    req.path().strip_prefix("/api/v1").unwrap_or(req.path())
}

/// Whether a route is written out as this very path (no placeholders).
fn written_out(path: &str) -> bool {
    ROUTES.iter().any(|(_, template)| *template == path)
}

/// 405 with `Allow` when the path exists with other methods, else 404.
async fn no_route(req: HttpRequest) -> HttpResponse {
    no_route_response(&req)
}

/// The methods of the routes a path is — those written out as it, else
/// the templates it fits — as a 405, or a 404 when there are none.
fn no_route_response(req: &HttpRequest) -> HttpResponse {
    let path = api_path(req);
    let exact = written_out(path);
    let allowed: Vec<String> = ROUTES
        .iter()
        .filter(|(_, template)| {
            if exact {
                *template == path
            } else {
                path_matches(template, path)
            }
        })
        .map(|(method, _)| method.to_uppercase())
        .collect();
    if allowed.is_empty() {
        return ApiError::new(
            actix_web::http::StatusCode::NOT_FOUND,
            "route_not_found",
            "No such API route.",
        )
        .response();
    }
    let mut response = ApiError::new(
        actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        &format!("This route takes {}.", allowed.join(", ")),
    )
    .response();
    if let Ok(value) = allowed.join(", ").parse() {
        response
            .headers_mut()
            .insert(actix_web::http::header::ALLOW, value);
    }
    response
}

/// Whether a concrete path fits a route template (`{x}` takes one segment).
pub fn path_matches(template: &str, path: &str) -> bool {
    let (mut t, mut p) = (template.split('/'), path.split('/'));
    loop {
        match (t.next(), p.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if a.starts_with('{') && !b.is_empty() => continue,
            (Some(a), Some(b)) if a == b => continue,
            _ => return false,
        }
    }
}

/// The OpenAPI 3.1 document: generated from the handlers' annotations, plus
/// the bearer scheme and the error responses every operation can give.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut doc = serde_json::to_value(<ApiDoc as utoipa::OpenApi>::openapi())
            .unwrap_or_else(|_| json!({}));
        doc["info"]["version"] = json!("1");
        doc["servers"] = json!([{ "url": "/" }]);
        doc["components"]["securitySchemes"]["token"] = json!({
            "type": "http",
            "scheme": "bearer",
            "description": "A personal access token from Profile > API tokens.",
        });
        doc["components"]["schemas"]["Error"] = error::schema();
        // The timezones the server takes, which annotations cannot list.
        let zones: Vec<Value> = chrono_tz::TZ_VARIANTS
            .iter()
            .map(|tz| json!(tz.name()))
            .chain([Value::Null])
            .collect();
        doc["components"]["schemas"]["UserFields"]["properties"]["timezone"]["enum"] = json!(zones);
        if let Some(paths) = doc["paths"].as_object_mut() {
            for (path, item) in paths.iter_mut() {
                let Some(item) = item.as_object_mut() else {
                    continue;
                };
                for (method, operation) in item.iter_mut() {
                    error::add_standard_responses(operation, method, path);
                }
            }
        }
        doc
    })
}

/// The OpenAPI document of this API.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object))
)]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .json(document())
}

/// Runs blocking database work on the thread pool.
pub async fn db<T, F>(state: &AppState, work: F) -> ApiResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> ApiResult<T> + Send + 'static,
{
    state.run_db(work).await
}

/// RFC 3339 in UTC.
pub fn time(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

/// A page size from `?limit=`.
pub fn page_limit(limit: Option<i64>) -> ApiResult<i64> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::bad_request(
            "invalid_limit",
            &format!("`limit` must be between 1 and {MAX_LIMIT}."),
        )),
    }
}

/// Opaque keyset cursors: base64url of a small JSON array.
pub mod cursor {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde::Serialize;
    use serde::de::DeserializeOwned;

    use super::ApiError;

    pub fn encode<T: Serialize>(position: &T) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(position).unwrap_or_default())
    }

    pub fn decode<T: DeserializeOwned>(cursor: Option<&str>) -> Result<Option<T>, ApiError> {
        let Some(text) = cursor.filter(|c| !c.is_empty()) else {
            return Ok(None);
        };
        URL_SAFE_NO_PAD
            .decode(text)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .map(Some)
            .ok_or_else(|| {
                ApiError::bad_request("invalid_cursor", "`cursor` is not one this API gave out.")
            })
    }
}

/// A page of results and the cursor of the next one.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub data: Vec<T>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}
