//! Settings: the organisation page. Later areas (users, teams, roles, audit)
//! join this module's navigation as they are built.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::forms::{Check, FieldErrors};
use crate::i18n::Lang;
use crate::models::org::{OrgChanges, OrgSettings};
use crate::pages::{Ctx, html_with_status, timezone_names};
use crate::policy::{self, Action, Flag};

/// The first settings page this user may open.
pub async fn index(current: CurrentUser) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::EnterSettings)?;
    if current.perms.org_settings {
        return Ok(crate::web::redirect("/settings/organisation"));
    }
    Err(AppError::Forbidden(
        "no settings page for this user yet".into(),
    ))
}

#[derive(Deserialize, Default, Clone)]
pub struct OrgForm {
    pub name: String,
    pub default_language: String,
    pub timezone: String,
}

#[derive(Deserialize, Default)]
pub struct SavedQuery {
    pub saved: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/settings_org.html")]
struct OrgPage {
    ctx: Ctx,
    form: OrgForm,
    errors: FieldErrors,
    saved: bool,
    languages: [Lang; 3],
    timezones: Vec<&'static str>,
}

fn page(current: &CurrentUser, form: OrgForm, errors: FieldErrors, saved: bool) -> OrgPage {
    OrgPage {
        ctx: Ctx::for_user(current, "settings"),
        form,
        errors,
        saved,
        languages: Lang::ALL,
        timezones: timezone_names().collect(),
    }
}

pub async fn show_org(
    current: CurrentUser,
    query: web::Query<SavedQuery>,
) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::SettingsOrg))?;
    let org = &current.org;
    let form = OrgForm {
        name: org.name.clone(),
        default_language: org.default_language.clone(),
        timezone: org.timezone.clone(),
    };
    html_with_status(
        &page(
            &current,
            form,
            FieldErrors::default(),
            query.saved.is_some(),
        ),
        StatusCode::OK,
    )
}

pub async fn save_org(
    current: CurrentUser,
    state: web::Data<AppState>,
    form: web::Form<OrgForm>,
) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::SettingsOrg))?;
    let form = form.into_inner();
    let mut errors = FieldErrors::default();
    let mut check = Check {
        t: current.tr,
        errors: &mut errors,
    };
    check.required("name", &form.name, 120);
    check.language("default_language", &form.default_language);
    check.timezone("timezone", &form.timezone);
    if !errors.is_empty() {
        return html_with_status(
            &page(&current, form, errors, false),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let now = state.clock.now();
    state
        .db(move |conn| {
            let lang = Lang::parse(&form.default_language).unwrap_or_default();
            OrgSettings::update(
                conn,
                &OrgChanges {
                    name: form.name.trim(),
                    default_language: lang.code(),
                    timezone: form.timezone.trim(),
                    updated_at: now,
                },
            )?;
            Ok(())
        })
        .await?;
    Ok(crate::web::redirect("/settings/organisation?saved=1"))
}
