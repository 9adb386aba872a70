//! First run: name the organisation and create the owner. Gone (404) once an
//! owner exists.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth;
use crate::db::write_transaction;
use crate::error::{AppError, AppResult};
use crate::forms::{Check, FieldErrors};
use crate::i18n::Lang;
use crate::pages::{Ctx, TimezoneGroup, html_with_status, timezone_choices};
use crate::services::{Refusal, org};
use crate::state::AppState;
use actix_web::http::StatusCode;

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct SetupForm {
    pub org_name: String,
    pub default_language: String,
    pub timezone: String,
    pub name: String,
    pub email: String,
    pub password: String,
    pub password_confirm: String,
}

#[derive(Template)]
#[template(path = "pages/setup.html")]
struct SetupPage {
    ctx: Ctx,
    form: SetupForm,
    errors: FieldErrors,
    languages: [Lang; 3],
    timezones: Vec<TimezoneGroup>,
}

impl SetupPage {
    fn new(ctx: Ctx, form: SetupForm, errors: FieldErrors) -> Self {
        Self {
            ctx,
            timezones: timezone_choices(&form.timezone, chrono::Utc::now().naive_utc()),
            form,
            errors,
            languages: Lang::ALL,
        }
    }
}

pub async fn show(req: HttpRequest, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    if state.owner_exists().await? {
        return Err(AppError::NotFound);
    }
    let ctx = Ctx::for_visitor(&req, "Confer".into());
    let form = SetupForm {
        default_language: ctx.lang().to_string(),
        timezone: "UTC".into(),
        ..SetupForm::default()
    };
    html_with_status(
        &SetupPage::new(ctx, form, FieldErrors::default()),
        StatusCode::OK,
    )
}

pub async fn submit(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    form: web::Form<SetupForm>,
) -> AppResult<HttpResponse> {
    if state.owner_exists().await? {
        return Err(AppError::NotFound);
    }
    let form = form.into_inner();
    let ctx = Ctx::for_visitor(&req, "Confer".into());
    let t = ctx.t;
    let setup = |hash| org::Setup {
        org_name: &form.org_name,
        default_language: &form.default_language,
        timezone: &form.timezone,
        name: &form.name,
        email: &form.email,
        password_hash: hash,
    };
    let mut errors = org::problems(&setup("")).messages(t);
    Check {
        t,
        errors: &mut errors,
    }
    .new_password(
        "password",
        &form.password,
        "password_confirm",
        &form.password_confirm,
    );
    let again = |ctx, form: SetupForm, errors| {
        let kept = SetupForm {
            password: String::new(),
            password_confirm: String::new(),
            ..form
        };
        html_with_status(
            &SetupPage::new(ctx, kept, errors),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    if !errors.is_empty() {
        return again(ctx, form, errors);
    }
    let hash = auth::hash_password(form.password.clone(), state.config.bcrypt_cost).await?;
    let now = state.clock.now();
    let f = form.clone();
    let created = state
        .db(move |conn| {
            let input = org::Setup {
                org_name: &f.org_name,
                default_language: &f.default_language,
                timezone: &f.timezone,
                name: &f.name,
                email: &f.email,
                password_hash: &hash,
            };
            match write_transaction(conn, |conn| org::set_up(conn, &input, now)) {
                Ok(owner) => Ok(Ok(owner)),
                Err(Refusal::Fields(fields)) => Ok(Err(fields)),
                Err(Refusal::Rule(_)) => Err(AppError::NotFound),
                Err(other) => Err(other.into()),
            }
        })
        .await?;
    let owner = match created {
        Ok(owner) => owner,
        Err(fields) => return again(ctx, form, fields.messages(t)),
    };
    let lang = Lang::parse(&form.default_language).unwrap_or_default();
    auth::sign_in(&session, &owner, lang)?;
    tracing::info!(user_id = owner.id, "organisation set up");
    Ok(crate::web::redirect("/"))
}
