//! The user's own profile: name, language, timezone and password.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::{self, CurrentUser};
use crate::error::AppResult;
use crate::forms::{Check, FieldErrors};
use crate::i18n::Lang;
use crate::models::user::Preferences;
use crate::pages::{Ctx, TimezoneGroup, html_with_status, timezone_choices};
use crate::services::profile;
use crate::state::AppState;

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct ProfileForm {
    pub name: String,
    /// Empty: the organisation's default.
    pub language: String,
    /// Empty: the organisation's timezone.
    pub timezone: String,
    /// Checkboxes: present when ticked.
    pub email_on_mention: Option<String>,
    pub email_on_assignment: Option<String>,
    pub email_on_reply: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PasswordForm {
    pub current_password: String,
    pub new_password: String,
    pub new_password_confirm: String,
}

#[derive(Deserialize, Default)]
pub struct ProfileQuery {
    pub saved: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/profile.html")]
struct ProfilePage {
    ctx: Ctx,
    email: String,
    form: ProfileForm,
    errors: FieldErrors,
    password_errors: FieldErrors,
    notice: Option<&'static str>,
    languages: [Lang; 3],
    timezones: Vec<TimezoneGroup>,
    two_factor_on: bool,
}

fn page(current: &CurrentUser, form: ProfileForm) -> ProfilePage {
    let timezones = timezone_choices(&form.timezone, chrono::Utc::now().naive_utc());
    ProfilePage {
        ctx: Ctx::for_user(current, "profile"),
        email: current.user.email.clone(),
        form,
        errors: FieldErrors::default(),
        password_errors: FieldErrors::default(),
        notice: None,
        languages: Lang::ALL,
        timezones,
        two_factor_on: current.user.two_factor_since.is_some(),
    }
}

fn stored_form(current: &CurrentUser) -> ProfileForm {
    ProfileForm {
        name: current.user.name.clone(),
        language: current.user.language.clone().unwrap_or_default(),
        timezone: current.user.timezone.clone().unwrap_or_default(),
        email_on_mention: current.user.email_on_mention.then(|| "on".into()),
        email_on_assignment: current.user.email_on_assignment.then(|| "on".into()),
        email_on_reply: current.user.email_on_reply.then(|| "on".into()),
    }
}

pub async fn show(
    current: CurrentUser,
    query: web::Query<ProfileQuery>,
) -> AppResult<HttpResponse> {
    let mut page = page(&current, stored_form(&current));
    page.notice = match query.saved.as_deref() {
        Some("password") => Some(page.ctx.t.get("profile.password_saved")),
        Some(_) => Some(page.ctx.t.get("profile.saved")),
        None => None,
    };
    html_with_status(&page, StatusCode::OK)
}

pub async fn save(
    current: CurrentUser,
    state: web::Data<AppState>,
    form: web::Form<ProfileForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let mut page = page(&current, form.clone());
    let (id, now, f) = (current.user.id, state.clock.now(), form.clone());
    let written = crate::web::write(&state, move |conn| {
        let preferences = Preferences {
            name: &f.name,
            language: Some(f.language.as_str()).filter(|l| !l.is_empty()),
            timezone: Some(f.timezone.trim()).filter(|t| !t.is_empty()),
            email_on_mention: f.email_on_mention.is_some(),
            email_on_assignment: f.email_on_assignment.is_some(),
            email_on_reply: f.email_on_reply.is_some(),
        };
        profile::update_preferences(conn, id, &preferences, now)
    })
    .await?;
    match written {
        Ok(()) => Ok(crate::web::redirect("/profile?saved=1")),
        Err(fields) => {
            page.errors = fields.messages(page.ctx.t);
            html_with_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

pub async fn change_password(
    current: CurrentUser,
    session: Session,
    state: web::Data<AppState>,
    form: web::Form<PasswordForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let mut page = page(&current, stored_form(&current));
    let stored = current.user.password_hash.clone().unwrap_or_default();
    if !auth::verify_password(form.current_password.clone(), stored).await? {
        page.password_errors
            .add("current_password", page.ctx.t.get("profile.wrong_password"));
    }
    let mut check = Check {
        t: page.ctx.t,
        errors: &mut page.password_errors,
    };
    check.new_password(
        "new_password",
        &form.new_password,
        "new_password_confirm",
        &form.new_password_confirm,
    );
    if !page.password_errors.is_empty() {
        return html_with_status(&page, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let hash = auth::hash_password(form.new_password, state.config.bcrypt_cost).await?;
    let id = current.user.id;
    let now = state.clock.now();
    let user = state
        .db(move |conn| Ok(profile::set_password(conn, id, &hash, now)?))
        .await?;
    // Every other session of this user ends; this one continues.
    auth::sign_in(&session, &user, current.lang())?;
    Ok(crate::web::redirect("/profile?saved=password"))
}
