//! Settings: the organisation page. Later areas (users, teams, roles, audit)
//! join this module's navigation as they are built.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::forms::FieldErrors;
use crate::i18n::Lang;
use crate::models::team::Team;
use crate::pages::{Ctx, TimezoneGroup, html_with_status, timezone_choices};
use crate::policy::{self, Action, Flag};
use crate::services::org;
use crate::state::AppState;

/// The first settings page this user may open.
pub async fn index(current: CurrentUser) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::EnterSettings)?;
    let perms = &current.perms;
    let first = [
        (perms.view_users, "/settings/users"),
        (perms.manage_teams, "/settings/teams"),
        (perms.manage_roles, "/settings/roles"),
        (perms.org_settings, "/settings/organisation"),
        (perms.manage_tokens, "/settings/api"),
        (perms.manage_integrations, "/settings/webhooks"),
        (perms.view_audit, "/settings/audit"),
    ]
    .into_iter()
    .find_map(|(allowed, path)| allowed.then_some(path));
    match first {
        Some(path) => Ok(crate::web::redirect(path)),
        None => Err(AppError::Forbidden("no settings page for this user".into())),
    }
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct OrgForm {
    pub name: String,
    pub default_language: String,
    pub timezone: String,
    #[serde(default)]
    pub allowance: String,
    #[serde(default)]
    pub allowance_fixed: String,
    /// A checkbox: present ("on") when ticked.
    #[serde(default)]
    pub mask_contacts: Option<String>,
    /// Team id, or empty for none.
    #[serde(default)]
    pub intake_team: String,
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
    timezones: Vec<TimezoneGroup>,
    teams: Vec<Team>,
}

impl OrgPage {
    fn is_intake(&self, id: &i64) -> bool {
        self.form.intake_team == id.to_string()
    }
}

async fn page(
    current: &CurrentUser,
    state: &AppState,
    form: OrgForm,
    errors: FieldErrors,
    saved: bool,
) -> AppResult<OrgPage> {
    Ok(OrgPage {
        ctx: Ctx::for_user(current, "org"),
        timezones: timezone_choices(&form.timezone, chrono::Utc::now().naive_utc()),
        form,
        errors,
        saved,
        languages: Lang::ALL,
        teams: state.db(|conn| Ok(Team::all(conn)?)).await?,
    })
}

pub async fn show_org(
    current: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<SavedQuery>,
) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::SettingsOrg))?;
    let org = &current.org;
    let form = OrgForm {
        name: org.name.clone(),
        default_language: org.default_language.clone(),
        timezone: org.timezone.clone(),
        allowance: org.collaborator_allowance.clone(),
        allowance_fixed: org
            .collaborator_allowance_fixed
            .map(|n| n.to_string())
            .unwrap_or_default(),
        mask_contacts: org
            .mask_contacts_for_collaborators
            .then(|| "on".to_string()),
        intake_team: org
            .intake_team_id
            .map(|t| t.to_string())
            .unwrap_or_default(),
    };
    let saved = query.saved.is_some();
    html_with_status(
        &page(&current, &state, form, FieldErrors::default(), saved).await?,
        StatusCode::OK,
    )
}

pub async fn save_org(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    form: web::Form<OrgForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let who = current.caller(&state, &req);
    let now = who.now;
    let f = form.clone();
    let written = crate::web::write(&state, move |conn| {
        let by = who.by();
        let input = org::SettingsInput {
            name: &f.name,
            default_language: &f.default_language,
            timezone: &f.timezone,
            allowance: &f.allowance,
            allowance_fixed: f.allowance_fixed.trim().parse().ok(),
            mask_contacts: f.mask_contacts.is_some(),
            intake_team_id: f.intake_team.trim().parse().ok(),
        };
        org::update_settings(conn, &by, &input, now)
    })
    .await?;
    if let Err(fields) = written {
        let errors = fields.messages(current.tr);
        return html_with_status(
            &page(&current, &state, form, errors, false).await?,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    Ok(crate::web::redirect("/settings/organisation?saved=1"))
}
