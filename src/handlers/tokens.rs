//! Tokens for machines: everyone's own personal access tokens (Profile >
//! API tokens), and for admins every live token plus the SCIM bearer token
//! (Settings > API & SCIM). Secrets are shown once and stored as SHA-256.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::db::write_transaction;
use crate::error::{AppError, AppResult};
use crate::forms::FieldErrors;
use crate::models::api_token::{self, ApiToken};
use crate::models::org::OrgSettings;
use crate::pages::{Ctx, format_datetime, html_with_status};
use crate::policy::{self, Action, Flag};
use crate::services::{org, profile};
use crate::state::AppState;
use crate::web::NoticeQuery;
use crate::web::redirect;

pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub owner: String,
    pub created: String,
    pub last_used: Option<String>,
    pub revoked: Option<String>,
}

fn row(current: &CurrentUser, t: &ApiToken, owner: String) -> TokenRow {
    TokenRow {
        id: t.id,
        name: t.name.clone(),
        prefix: t.prefix.clone(),
        owner,
        created: format_datetime(t.created_at, current.tz, current.tr),
        last_used: t
            .last_used_at
            .map(|at| format_datetime(at, current.tz, current.tr)),
        revoked: t
            .revoked_at
            .map(|at| format_datetime(at, current.tz, current.tr)),
    }
}

#[derive(Template)]
#[template(path = "pages/tokens.html")]
struct TokensPage {
    ctx: Ctx,
    tokens: Vec<TokenRow>,
    name: String,
    errors: FieldErrors,
    new_token: Option<String>,
    notice: Option<&'static str>,
    api_base: String,
}

async fn own_page(
    current: &CurrentUser,
    state: &AppState,
    name: String,
    errors: FieldErrors,
    new_token: Option<String>,
    notice: Option<&'static str>,
) -> AppResult<HttpResponse> {
    let user_id = current.user.id;
    let tokens = state
        .db(move |conn| Ok(api_token::of_user(conn, user_id)?))
        .await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    html_with_status(
        &TokensPage {
            ctx: Ctx::for_user(current, "tokens"),
            tokens: tokens
                .iter()
                .map(|t| row(current, t, current.user.name.clone()))
                .collect(),
            name,
            errors,
            new_token,
            notice,
            api_base: format!("{}/api/v1", state.config.public_url),
        },
        status,
    )
}

pub async fn list(
    current: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<NoticeQuery>,
) -> AppResult<HttpResponse> {
    let notice = (query.notice() == "revoked").then_some("tokens.notice.revoked");
    own_page(
        &current,
        &state,
        String::new(),
        FieldErrors::default(),
        None,
        notice,
    )
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewTokenForm {
    pub name: String,
}

/// Creates a token for the signed-in user and shows it this once.
pub async fn create(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    form: web::Form<NewTokenForm>,
) -> AppResult<HttpResponse> {
    let name = form.into_inner().name;
    let who = current.caller(&state, &req);
    let now = who.now;
    let label = name.clone();
    let written = crate::web::write(&state, move |conn| {
        let by = who.by();
        profile::create_token(conn, &by, &label, now)
    })
    .await?;
    let token = match written {
        Ok(token) => token,
        Err(fields) => {
            let errors = fields.messages(current.tr);
            return own_page(&current, &state, name, errors, None, None).await;
        }
    };
    own_page(
        &current,
        &state,
        String::new(),
        FieldErrors::default(),
        Some(token),
        Some("tokens.notice.created"),
    )
    .await
}

/// Revokes a token: one's own, or anyone's with the tokens permission.
async fn revoke_token(
    req: &HttpRequest,
    current: &CurrentUser,
    state: &AppState,
    id: i64,
) -> AppResult<()> {
    let who = current.caller(state, req);
    let now = who.now;
    state
        .db(move |conn| {
            let by = who.by();
            Ok(write_transaction(conn, |conn| {
                profile::revoke_token(conn, &by, id, now)
            })?)
        })
        .await
}

pub async fn revoke(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    revoke_token(&req, &current, &state, *id).await?;
    Ok(redirect("/profile/tokens?notice=revoked"))
}

#[derive(Template)]
#[template(path = "pages/api_settings.html")]
struct ApiSettingsPage {
    ctx: Ctx,
    tokens: Vec<TokenRow>,
    scim_endpoint: String,
    scim_since: Option<String>,
    new_scim_token: Option<String>,
    notice: Option<&'static str>,
}

fn ensure_admin(current: &CurrentUser) -> AppResult<()> {
    Ok(policy::ensure(
        &current.actor,
        Action::Use(Flag::SettingsTokens),
    )?)
}

async fn settings_page(
    current: &CurrentUser,
    state: &AppState,
    new_scim_token: Option<String>,
    notice: Option<&'static str>,
) -> AppResult<HttpResponse> {
    let (tokens, org) = state
        .db(|conn| {
            Ok((
                api_token::all_live(conn)?,
                OrgSettings::find(conn)?.ok_or(AppError::NotFound)?,
            ))
        })
        .await?;
    html_with_status(
        &ApiSettingsPage {
            ctx: Ctx::for_user(current, "api"),
            tokens: tokens
                .iter()
                .map(|t| {
                    row(
                        current,
                        &t.token,
                        format!("{} <{}>", t.owner_name, t.owner_email),
                    )
                })
                .collect(),
            scim_endpoint: format!("{}/scim/v2", state.config.public_url),
            scim_since: org
                .scim_token_created_at
                .map(|at| format_datetime(at, current.tz, current.tr)),
            new_scim_token,
            notice,
        },
        StatusCode::OK,
    )
}

pub async fn settings(
    current: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<NoticeQuery>,
) -> AppResult<HttpResponse> {
    ensure_admin(&current)?;
    let notice = match query.notice() {
        "revoked" => Some("tokens.notice.revoked"),
        "scim_removed" => Some("scim.notice.removed"),
        _ => None,
    };
    settings_page(&current, &state, None, notice).await
}

pub async fn admin_revoke(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    ensure_admin(&current)?;
    revoke_token(&req, &current, &state, *id).await?;
    Ok(redirect("/settings/api?notice=revoked"))
}

/// Sets a new SCIM token (the old one stops working) and shows it once.
pub async fn rotate_scim(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    ensure_admin(&current)?;
    let token = set_scim(&req, &current, &state, true).await?;
    settings_page(&current, &state, token, Some("scim.notice.created")).await
}

/// Turns SCIM off: every request to `/scim/v2` is refused.
pub async fn remove_scim(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    ensure_admin(&current)?;
    set_scim(&req, &current, &state, false).await?;
    Ok(redirect("/settings/api?notice=scim_removed"))
}

async fn set_scim(
    req: &HttpRequest,
    current: &CurrentUser,
    state: &AppState,
    on: bool,
) -> AppResult<Option<String>> {
    let token = on.then(|| format!("confer_scim_{}", crate::crypto::random_token()));
    let hash = token.as_deref().map(crate::crypto::token_hash);
    let who = current.caller(state, req);
    let now = who.now;
    state
        .db(move |conn| {
            let by = who.by();
            Ok(write_transaction(conn, |conn| {
                org::set_scim_token(conn, &by, hash.as_deref(), now)
            })?)
        })
        .await?;
    Ok(token)
}
