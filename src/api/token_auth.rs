//! `ApiUser`: the user behind the bearer token, checked on every request
//! like a browser session is — deactivation, the end of a seasonal window or
//! a type or role change apply to the very next request.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, web};
use chrono_tz::Tz;

use super::{ApiError, ApiResult};
use crate::models::api_token;
use crate::models::org::OrgSettings;
use crate::models::user::{AccessState, User};
use crate::policy::{Action, Actor};
use crate::state::AppState;

pub struct ApiUser {
    pub user: User,
    pub actor: Actor,
    pub org: OrgSettings,
    pub token_id: i64,
    pub tz: Tz,
}

impl ApiUser {
    /// The policy's answer, as a 403 when it refuses.
    pub fn ensure(&self, action: Action) -> ApiResult<()> {
        crate::policy::ensure(&self.actor, action).map_err(ApiError::from)
    }

    pub fn allowed(&self, action: Action) -> bool {
        crate::policy::can(&self.actor, action).allowed
    }

    /// The user as the audit log records them (via the API).
    pub fn audit_actor(&self, req: &HttpRequest) -> crate::models::audit::AuditActor {
        crate::models::audit::AuditActor {
            id: Some(self.user.id),
            name: format!("{} <{}> (API)", self.user.name, self.user.email),
            ip: Some(crate::net::client_ip_text(req)),
        }
    }

    /// This token's user as the services see a writer, now.
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

impl FromRequest for ApiUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { load(&req).await })
    }
}

async fn load(req: &HttpRequest) -> ApiResult<ApiUser> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::from(crate::error::AppError::Internal("state missing".into())))?
        .clone();
    let Some(token) = crate::web::bearer(req).map(str::to_string) else {
        return Err(ApiError::unauthorized(
            "missing_token",
            "Send a personal access token as `Authorization: Bearer <token>`.",
        ));
    };
    let invalid = || ApiError::unauthorized("invalid_token", "The token is not valid.");
    let now = state.clock.now();
    let loaded = super::db(&state, move |conn| {
        let Some(found) = api_token::find_live(conn, &token)? else {
            return Ok(None);
        };
        let Some((user, _role, actor)) = User::load_actor(conn, found.user_id)? else {
            return Ok(None);
        };
        let Some(org) = OrgSettings::find(conn)? else {
            return Ok(None);
        };
        Ok(Some((found, user, actor, org)))
    })
    .await?;
    let Some((token, user, actor, org)) = loaded else {
        return Err(invalid());
    };
    let today = org.today(now);
    if !user.active || user.password_hash.is_none() {
        return Err(invalid());
    }
    if user.access_state(today) != AccessState::Allowed {
        return Err(ApiError::unauthorized(
            "access_window_closed",
            "The token's user is outside their access window.",
        ));
    }
    if let Err(seconds) = state.api_limiter.check(token.id, now) {
        let mut error = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            &format!(
                "More than {} requests a minute with this token.",
                state.api_limiter.limit()
            ),
        );
        error.retry_after = Some(seconds);
        return Err(error);
    }
    let token_id = token.id;
    if token
        .last_used_at
        .is_none_or(|at| now - at >= chrono::Duration::minutes(1))
    {
        // Written at most once a minute: most requests write nothing.
        super::db(&state, move |conn| {
            Ok(api_token::touch(conn, token.id, now)?)
        })
        .await?;
    }
    if actor.is_collaborator() {
        actix_web::HttpMessage::extensions_mut(req).insert(crate::auth::CollaboratorRequest {
            user_id: user.id,
            channel: "api",
        });
    }
    let tz = user.tz(&org);
    Ok(ApiUser {
        token_id,
        user,
        actor,
        org,
        tz,
    })
}
