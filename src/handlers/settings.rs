//! Settings: the organisation page. Later areas (users, teams, roles, audit)
//! join this module's navigation as they are built.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::db::write_transaction;
use crate::error::{AppError, AppResult};
use crate::forms::{Check, FieldErrors};
use crate::i18n::Lang;
use crate::models::audit;
use crate::models::org::{OrgChanges, OrgSettings};
use crate::models::team::Team;
use crate::pages::{Ctx, html_with_status, timezone_names};
use crate::policy::{self, Action, Flag};
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
    timezones: Vec<&'static str>,
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
        form,
        errors,
        saved,
        languages: Lang::ALL,
        timezones: timezone_names().collect(),
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
    let fixed = form
        .allowance_fixed
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|n| *n >= 0);
    match form.allowance.as_str() {
        "unlimited" | "full_time_seats" => {}
        "fixed" if fixed.is_some() => {}
        "fixed" => errors.add(
            "allowance_fixed",
            current.tr.get("settings.org.allowance_number"),
        ),
        _ => errors.add("allowance", current.tr.get("form.error.required")),
    }
    let intake_team = form.intake_team.trim().parse::<i64>().ok();
    if let Some(team) = intake_team
        && state
            .db(move |conn| Ok(Team::find(conn, team)?))
            .await?
            .is_none()
    {
        errors.add("intake_team", current.tr.get("users.error.unknown_team"));
    }
    if !errors.is_empty() {
        return html_with_status(
            &page(&current, &state, form, errors, false).await?,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let now = state.clock.now();
    let actor = current.audit_actor(&req);
    let before = current.org.clone();
    state
        .db(move |conn| {
            write_transaction(conn, |conn| {
                let lang = Lang::parse(&form.default_language).unwrap_or_default();
                let changes = OrgChanges {
                    name: form.name.trim(),
                    default_language: lang.code(),
                    timezone: form.timezone.trim(),
                    collaborator_allowance: &form.allowance,
                    collaborator_allowance_fixed: fixed.filter(|_| form.allowance == "fixed"),
                    mask_contacts_for_collaborators: form.mask_contacts.is_some(),
                    intake_team_id: intake_team,
                    updated_at: now,
                };
                let old = serde_json::to_value(before.as_changes())?;
                let new = serde_json::to_value(&changes)?;
                OrgSettings::update(conn, &changes)?;
                if old != new {
                    audit::record(
                        conn,
                        &actor,
                        audit::Event {
                            action: "organisation.updated",
                            target_type: "organisation",
                            target_id: None,
                            target_label: changes.name,
                            before: Some(old),
                            after: Some(new),
                        },
                        now,
                    )?;
                }
                Ok::<_, AppError>(())
            })
        })
        .await?;
    Ok(crate::web::redirect("/settings/organisation?saved=1"))
}
