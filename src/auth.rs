//! Sessions, the signed-in user extractor, CSRF protection, the first-run
//! gate, passwords and sign-in throttling. A session is signed in only by
//! `sign_in`; one waiting for a second factor holds its user under other
//! keys, which `CurrentUser` never reads.

use std::future::Future;
use std::pin::Pin;

use actix_session::{Session, SessionExt};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, ResponseError, web};
use chrono::{Duration, NaiveDate, NaiveDateTime};
use chrono_tz::Tz;

use crate::crypto::{random_token, secrets_match};
use crate::error::{AppError, AppResult};
use crate::i18n::{Lang, Tr};
use crate::models::login_failure;
use crate::models::org::OrgSettings;
use crate::models::role::Role;
use crate::models::user::{AccessState, User};
use crate::policy::{Actor, Permissions};
use crate::state::AppState;

const SESSION_USER: &str = "uid";
const SESSION_VERSION: &str = "sv";
const SESSION_CSRF: &str = "csrf";
/// The reader's language, so error pages and the sign-in page speak it.
const SESSION_LANG: &str = "lang";
const SESSION_PENDING_USER: &str = "p_uid";
const SESSION_PENDING_VERSION: &str = "p_sv";
const SESSION_PENDING_AT: &str = "p_at";
const SESSION_PENDING_NEXT: &str = "p_next";
pub const CSRF_FIELD: &str = "csrf_token";
const CSRF_HEADER: &str = "x-csrf-token";

/// The signed-in user, checked against the database on every request: a
/// deactivated user, a seasonal user outside their window, or a changed
/// session version (password change, deactivation) is signed out at once, on
/// whichever node the request lands.
pub struct CurrentUser {
    pub user: User,
    pub role: Option<Role>,
    pub actor: Actor,
    pub org: OrgSettings,
    pub perms: Permissions,
    pub tr: Tr,
    pub tz: Tz,
    pub csrf: String,
    /// Unread notifications, for the bell in the header.
    pub unread: i64,
}

impl CurrentUser {
    pub fn lang(&self) -> Lang {
        self.tr.lang
    }
}

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { load_current_user(&req).await })
    }
}

/// What a page's header needs of the signed-in reader, kept with the
/// request so that its error page shows the same header.
/// Set on a request made by a collaborator (browser or API token): if the
/// policy refuses it a change of a conversation, the refusal is counted
/// (`refused::record_refusals`).
#[derive(Clone, Copy, Debug)]
pub struct CollaboratorRequest {
    pub user_id: i64,
    pub channel: &'static str,
}

pub struct SignedIn {
    pub tr: Tr,
    pub csrf: String,
    pub org_name: String,
    pub name: String,
    pub user_type: crate::policy::UserType,
    pub perms: Permissions,
    pub unread: i64,
}

async fn load_current_user(req: &HttpRequest) -> AppResult<CurrentUser> {
    let session = req.get_session();
    let login_required = || AppError::LoginRequired {
        next: req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into()),
    };
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::Internal("application state missing".into()))?
        .clone();
    let (Some(user_id), Some(version)) = (
        session.get::<i64>(SESSION_USER).ok().flatten(),
        session.get::<i32>(SESSION_VERSION).ok().flatten(),
    ) else {
        return Err(login_required());
    };
    let now = state.clock.now();
    let loaded = state
        .db(move |conn| {
            let Some(crate::models::user::ReaderContext {
                user,
                role,
                actor,
                org,
                unread_any,
            }) = User::load_context(conn, user_id)?
            else {
                return Ok(None);
            };
            // Of the unread, only what they may still see counts: asked
            // only when there is something unread at all.
            let unread = if unread_any == 0 {
                0
            } else {
                let scope = crate::policy::conversation_scope(&actor).0;
                let reader = crate::models::task::TaskReader::for_actor(user.id, &actor);
                crate::models::notification::unread_count(conn, user.id, &scope, &reader)?
            };
            // Read first, write only when stale: most requests write nothing
            // (on SQLite even an UPDATE that matches no row takes the write lock).
            if User::last_active_is_stale(&user, now) {
                crate::services::profile::record_activity(conn, user.id, now)?;
            }
            Ok(Some((user, role, actor, org, unread)))
        })
        .await?;
    let Some((user, role, actor, org, unread)) = loaded else {
        session.purge();
        return Err(login_required());
    };
    let today = org.today(now);
    if user.session_version != version || user.access_state(today) != AccessState::Allowed {
        session.purge();
        return Err(login_required());
    }
    // The organisation requires a second factor this user has not set up:
    // nothing but its setup page (and signing out) until they do.
    if user.two_factor_since.is_none()
        && crate::policy::must_use_two_factor(crate::services::security::rule_of(&org), &actor)
        && !matches!(req.path(), crate::error::TWO_FACTOR_SETUP_PATH | "/logout")
    {
        return Err(AppError::TwoFactorSetupRequired);
    }
    let lang = user.lang(&org);
    // Written only when it changes: a changed session is encrypted and sent
    // again with the response.
    if session
        .get::<String>(SESSION_LANG)
        .ok()
        .flatten()
        .as_deref()
        != Some(lang.code())
    {
        let _ = session.insert(SESSION_LANG, lang.code());
    }
    let tz = user.tz(&org);
    let current = CurrentUser {
        perms: Permissions::for_actor(&actor),
        csrf: csrf_token(&session)?,
        tr: Tr::new(lang),
        tz,
        unread,
        user,
        role,
        actor,
        org,
    };
    if current.actor.is_collaborator() {
        req.extensions_mut().insert(CollaboratorRequest {
            user_id: current.user.id,
            channel: "web",
        });
    }
    // An error page for this request keeps the navigation and the
    // organisation's name (`pages::render_error_page`).
    req.extensions_mut().insert(SignedIn {
        tr: current.tr,
        csrf: current.csrf.clone(),
        org_name: current.org.name.clone(),
        name: current.user.name.clone(),
        user_type: current.actor.user_type,
        perms: current.perms.clone(),
        unread: current.unread,
    });
    Ok(current)
}

/// The language for visitors who are not signed in: what they chose before
/// (kept in the session), else their browser's `Accept-Language`.
pub fn visitor_lang(req: &HttpRequest) -> Lang {
    if let Some(lang) = req
        .get_session()
        .get::<String>(SESSION_LANG)
        .ok()
        .flatten()
        .and_then(|code| Lang::parse(&code))
    {
        return lang;
    }
    req.headers()
        .get(actix_web::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Lang::from_accept_language)
        .unwrap_or_default()
}

/// The session's CSRF token, created on first use.
pub fn csrf_token(session: &Session) -> AppResult<String> {
    if let Some(token) = session.get::<String>(SESSION_CSRF).ok().flatten() {
        return Ok(token);
    }
    let token = random_token();
    session.insert(SESSION_CSRF, &token)?;
    Ok(token)
}

/// Starts a fresh session for `user` (new id, new CSRF token).
pub fn sign_in(session: &Session, user: &User, lang: Lang) -> AppResult<()> {
    session.renew();
    session.clear();
    session.insert(SESSION_USER, user.id)?;
    session.insert(SESSION_VERSION, user.session_version)?;
    session.insert(SESSION_CSRF, random_token())?;
    session.insert(SESSION_LANG, lang.code())?;
    Ok(())
}

/// The password (or the identity provider) was right and a second factor
/// is asked for next: the session holds who is half signed in, for
/// `PENDING_MINUTES`, and is no sign-in (`CurrentUser` ignores it).
pub fn begin_second_factor(
    session: &Session,
    user: &User,
    lang: Lang,
    next: &str,
    now: NaiveDateTime,
) -> AppResult<()> {
    session.renew();
    session.clear();
    session.insert(SESSION_LANG, lang.code())?;
    session.insert(SESSION_PENDING_USER, user.id)?;
    session.insert(SESSION_PENDING_VERSION, user.session_version)?;
    session.insert(SESSION_PENDING_AT, now.and_utc().timestamp())?;
    session.insert(SESSION_PENDING_NEXT, next)?;
    session.insert(SESSION_CSRF, random_token())?;
    Ok(())
}

/// Minutes a half-finished sign-in waits for its second factor.
pub const PENDING_MINUTES: i64 = 10;

/// A sign-in waiting for its second factor.
pub struct PendingSignIn {
    pub user_id: i64,
    pub session_version: i32,
    pub next: String,
}

/// The sign-in this session waits to finish, unless it is too old.
pub fn pending_second_factor(session: &Session, now: NaiveDateTime) -> Option<PendingSignIn> {
    let at = session.get::<i64>(SESSION_PENDING_AT).ok().flatten()?;
    if now.and_utc().timestamp() - at > PENDING_MINUTES * 60 {
        return None;
    }
    Some(PendingSignIn {
        user_id: session.get::<i64>(SESSION_PENDING_USER).ok().flatten()?,
        session_version: session.get::<i32>(SESSION_PENDING_VERSION).ok().flatten()?,
        next: session
            .get::<String>(SESSION_PENDING_NEXT)
            .ok()
            .flatten()
            .unwrap_or_else(|| "/".into()),
    })
}

pub fn sign_out(session: &Session) {
    session.purge();
}

/// Paths that authenticate with bearer tokens instead of cookies.
fn csrf_exempt(path: &str) -> bool {
    ["/api/", "/scim/", "/inbound/"]
        .iter()
        .any(|prefix| path.starts_with(prefix))
}

/// Refuses every state-changing request whose token does not match the
/// session's. The token travels in the `X-CSRF-Token` header or in the body
/// (a urlencoded field, or the first part of a multipart form) — never in the
/// URL, where logs, history and Referer headers would keep it.
pub async fn csrf_guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        || csrf_exempt(req.path())
    {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let expected = req.get_session().get::<String>(SESSION_CSRF).ok().flatten();
    let mut provided = req
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if provided.is_none() {
        let read = if content_type.starts_with("application/x-www-form-urlencoded") {
            // `input::clean_request` has bounded the body already.
            token_in_form(&mut req).await
        } else if content_type.starts_with("multipart/form-data") {
            token_in_first_part(&mut req, &content_type).await
        } else {
            Ok(None)
        };
        match read {
            Ok(token) => provided = token,
            Err(e) => {
                return Ok(req.into_response(e.error_response()).map_into_right_body());
            }
        }
    }
    match (expected, provided) {
        (Some(expected), Some(provided)) if secrets_match(&expected, &provided) => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body),
        _ => {
            tracing::warn!(
                path = req.path(),
                "refused a request without a valid CSRF token"
            );
            Ok(req
                .into_response(AppError::Csrf.error_response())
                .map_into_right_body())
        }
    }
}

/// Reads the form, finds the token, and puts the body back for the handler.
async fn token_in_form(req: &mut ServiceRequest) -> AppResult<Option<String>> {
    let mut payload = req.take_payload();
    let limit = crate::input::MAX_FORM_BYTES;
    let (body, complete) = crate::input::read_up_to(&mut payload, limit).await?;
    if !complete {
        return Err(AppError::PayloadTooLarge {
            limit_kib: limit / 1024,
        });
    }
    let body = body.freeze();
    let token = crate::urlencoded::form_pairs(&body)
        .into_iter()
        .find(|(k, _)| k == CSRF_FIELD)
        .map(|(_, v)| v);
    req.set_payload(Payload::from(body));
    Ok(token)
}

/// The first part of a multipart body when it is the `csrf_token` field (the
/// forms put it first); only as much of the body as that takes is read, and
/// it is put back in front of the rest for the handler.
async fn token_in_first_part(
    req: &mut ServiceRequest,
    content_type: &str,
) -> AppResult<Option<String>> {
    const PEEK_LIMIT: usize = 8 * 1024;
    let Some(boundary) = content_type
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| k.eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v.trim_matches('"').to_string())
    else {
        return Ok(None);
    };
    let mut payload = req.take_payload();
    let mut read = actix_web::web::BytesMut::new();
    let mut token = None;
    while read.len() <= PEEK_LIMIT {
        use futures_util::StreamExt;
        let Some(chunk) = payload.next().await else {
            break;
        };
        let chunk = chunk.map_err(|e| AppError::BadRequest(format!("request body: {e}")))?;
        read.extend_from_slice(&chunk);
        match first_part_token(&read, &boundary) {
            FirstPart::Incomplete => continue,
            FirstPart::Token(value) => token = Some(value),
            FirstPart::Other => {}
        }
        break;
    }
    crate::input::restore_payload(req, read.freeze(), payload);
    Ok(token)
}

enum FirstPart {
    Incomplete,
    Token(String),
    Other,
}

fn first_part_token(body: &[u8], boundary: &str) -> FirstPart {
    let find =
        |haystack: &[u8], needle: &[u8]| haystack.windows(needle.len()).position(|w| w == needle);
    let opening = format!("--{boundary}\r\n");
    let Some(start) = find(body, opening.as_bytes()) else {
        return if body.len() < opening.len() + 2 {
            FirstPart::Incomplete
        } else {
            FirstPart::Other
        };
    };
    let headers_at = start + opening.len();
    let Some(headers_len) = find(&body[headers_at..], b"\r\n\r\n") else {
        return FirstPart::Incomplete;
    };
    let headers = String::from_utf8_lossy(&body[headers_at..headers_at + headers_len]);
    let names_token = headers.lines().any(|line| {
        let line = line.to_ascii_lowercase();
        line.starts_with("content-disposition:") && line.contains(&format!("name=\"{CSRF_FIELD}\""))
    });
    if !names_token {
        return FirstPart::Other;
    }
    let value_at = headers_at + headers_len + 4;
    let closing = format!("\r\n--{boundary}");
    match find(&body[value_at..], closing.as_bytes()) {
        Some(len) => {
            FirstPart::Token(String::from_utf8_lossy(&body[value_at..value_at + len]).into_owned())
        }
        None => FirstPart::Incomplete,
    }
}

/// Until an owner exists, every page leads to `/setup`.
pub async fn setup_gate(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let path = req.path();
    let always_open = path == "/setup" || path == "/healthz" || path.starts_with("/static/");
    if !always_open && let Some(state) = req.app_data::<web::Data<AppState>>() {
        let exists = match state.owner_exists().await {
            Ok(exists) => exists,
            Err(e) => {
                return Ok(req.into_response(e.error_response()).map_into_right_body());
            }
        };
        if !exists {
            return Ok(req
                .into_response(crate::web::redirect("/setup"))
                .map_into_right_body());
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// Hashes off the async workers: bcrypt is deliberately slow.
pub async fn hash_password(password: String, cost: u32) -> AppResult<String> {
    web::block(move || bcrypt::hash(password, cost))
        .await?
        .map_err(|e| AppError::Internal(format!("bcrypt: {e}")))
}

pub async fn verify_password(password: String, hash: String) -> AppResult<bool> {
    Ok(web::block(move || bcrypt::verify(password, &hash).unwrap_or(false)).await?)
}

/// Sign-in throttling, shared by all nodes through the database.
pub mod throttle {
    use super::*;

    pub const WINDOW_MINUTES: i64 = 15;
    /// Failures that lock one account for the window.
    pub const MAX_PER_ACCOUNT: i64 = 5;
    /// Failures from one address after which its attempts are slowed: never
    /// a lock, since a shared address (an office, a carrier) is many users.
    pub const MAX_PER_IP: i64 = 30;
    /// How long a sign-in from an address under suspicion waits.
    pub const SUSPECT_DELAY: std::time::Duration = std::time::Duration::from_secs(1);

    pub fn account_scope(email: &str) -> String {
        format!("account:{}", crate::models::user::normalize_email(email))
    }

    pub fn ip_scope(ip: &str) -> String {
        format!("ip:{ip}")
    }

    /// Minutes until the next attempt is allowed, if the account or the
    /// address is locked.
    pub fn locked_for(
        conn: &mut crate::db::DbConn,
        scopes: &[(String, i64)],
        now: NaiveDateTime,
    ) -> AppResult<Option<i64>> {
        let since = now - Duration::minutes(WINDOW_MINUTES);
        for (scope, limit) in scopes {
            if login_failure::count_since(conn, scope, since)? >= *limit {
                let oldest = login_failure::oldest_since(conn, scope, since)?.unwrap_or(now);
                let unlock = oldest + Duration::minutes(WINDOW_MINUTES);
                let minutes = ((unlock - now).num_seconds() + 59) / 60;
                return Ok(Some(minutes.max(1)));
            }
        }
        Ok(None)
    }
}

impl CurrentUser {
    /// The policy's answer for a flag, as a 403 when it refuses.
    pub fn ensure(&self, flag: crate::policy::Flag) -> AppResult<()> {
        Ok(crate::policy::ensure(
            &self.actor,
            crate::policy::Action::Use(flag),
        )?)
    }

    /// The signed-in user as the audit log records them.
    pub fn audit_actor(&self, req: &HttpRequest) -> crate::models::audit::AuditActor {
        crate::models::audit::AuditActor {
            id: Some(self.user.id),
            name: format!("{} <{}>", self.user.name, self.user.email),
            ip: Some(crate::net::client_ip_text(req)),
        }
    }

    /// Today in the organisation's timezone.
    pub fn today(&self, now: NaiveDateTime) -> NaiveDate {
        self.org.today(now)
    }

    /// This user as the services see a writer, now.
    pub fn caller(&self, state: &AppState, req: &HttpRequest) -> crate::services::Caller {
        crate::services::Caller {
            actor: self.actor.clone(),
            name: self.user.name.clone(),
            audit: self.audit_actor(req),
            org: self.org.clone(),
            config: state.config.clone(),
            now: state.clock.now(),
        }
    }
}
