//! "Forgot your password?": a link by email, valid for an hour and usable
//! once. The request page answers the same whether or not the address has
//! an account, so it tells nobody who is registered.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth;
use crate::db::write_transaction;
use crate::error::{AppError, AppResult};
use crate::forms::{Check, FieldErrors};
use crate::handlers::session::org_name;
use crate::models::org::OrgSettings;
use crate::models::password_reset;
use crate::models::user::AccessState;
use crate::pages::{Ctx, html_with_status};
use crate::services::profile;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/password_forgot.html")]
struct ForgotPage {
    ctx: Ctx,
    email: String,
    sent: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ForgotForm {
    pub email: String,
}

pub async fn show_forgot(req: HttpRequest, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let ctx = Ctx::for_visitor(&req, org_name(&state).await?);
    html_with_status(
        &ForgotPage {
            ctx,
            email: String::new(),
            sent: false,
        },
        StatusCode::OK,
    )
}

pub async fn forgot(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<ForgotForm>,
) -> AppResult<HttpResponse> {
    let email = form.email.trim().to_string();
    let ctx = Ctx::for_visitor(&req, org_name(&state).await?);
    let mut errors = FieldErrors::default();
    Check {
        t: ctx.t,
        errors: &mut errors,
    }
    .email("email", &email);
    if !errors.is_empty() {
        return html_with_status(
            &ForgotPage {
                ctx,
                email,
                sent: false,
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let now = state.clock.now();
    let public_url = state.config.public_url.clone();
    let lookup = email.clone();
    state
        .db(move |conn| {
            Ok(write_transaction(conn, |conn| {
                profile::request_password_reset(conn, &lookup, &public_url, now)
            })?)
        })
        .await?;
    html_with_status(
        &ForgotPage {
            ctx,
            email,
            sent: true,
        },
        StatusCode::OK,
    )
}

#[derive(Template)]
#[template(path = "pages/password_reset.html")]
struct ResetPage {
    ctx: Ctx,
    token: String,
    valid: bool,
    errors: FieldErrors,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ResetForm {
    pub password: String,
    pub password_confirm: String,
}

async fn valid(state: &AppState, token: String) -> AppResult<Option<(i64, i64)>> {
    let now = state.clock.now();
    state
        .db(move |conn| Ok(password_reset::valid_user(conn, &token, now)?))
        .await
}

pub async fn show_reset(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> AppResult<HttpResponse> {
    let found = valid(&state, token.clone()).await?;
    let ctx = Ctx::for_visitor(&req, org_name(&state).await?);
    let status = if found.is_some() {
        StatusCode::OK
    } else {
        StatusCode::GONE
    };
    html_with_status(
        &ResetPage {
            ctx,
            token: token.into_inner(),
            valid: found.is_some(),
            errors: FieldErrors::default(),
        },
        status,
    )
}

pub async fn reset(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: web::Form<ResetForm>,
) -> AppResult<HttpResponse> {
    let ctx = Ctx::for_visitor(&req, org_name(&state).await?);
    let Some((reset_id, user_id)) = valid(&state, token.clone()).await? else {
        let page = ResetPage {
            ctx,
            token: token.into_inner(),
            valid: false,
            errors: FieldErrors::default(),
        };
        return html_with_status(&page, StatusCode::GONE);
    };
    let mut errors = FieldErrors::default();
    Check {
        t: ctx.t,
        errors: &mut errors,
    }
    .new_password(
        "password",
        &form.password,
        "password_confirm",
        &form.password_confirm,
    );
    if !errors.is_empty() {
        let page = ResetPage {
            ctx,
            token: token.into_inner(),
            valid: true,
            errors,
        };
        return html_with_status(&page, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let hash = auth::hash_password(form.password.clone(), state.config.bcrypt_cost).await?;
    let now = state.clock.now();
    let changed = state
        .db(move |conn| {
            write_transaction(conn, |conn| {
                // A new password ends every session of this user.
                let user = profile::reset_password(conn, reset_id, user_id, &hash, now)?;
                Ok::<_, AppError>(user.zip(OrgSettings::find(conn)?))
            })
        })
        .await?;
    let Some((user, org)) = changed else {
        let page = ResetPage {
            ctx,
            token: token.into_inner(),
            valid: false,
            errors: FieldErrors::default(),
        };
        return html_with_status(&page, StatusCode::GONE);
    };
    if user.access_state(org.today(now)) != AccessState::Allowed {
        return Ok(crate::web::redirect("/login"));
    }
    auth::sign_in(&session, &user, user.lang(&org))?;
    Ok(crate::web::redirect("/"))
}
