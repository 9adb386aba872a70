//! Settings > Provisioning (admins, `settings.integrations`): the mappings
//! from SCIM groups to a user type, a role and teams, added and removed
//! through `services::provisioning`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::auth::CurrentUser;
use crate::db::write_transaction;
use crate::error::AppResult;
use crate::forms::FieldErrors;
use crate::models::provisioning::{self, MatchKind};
use crate::models::role::Role;
use crate::models::team::Team;
use crate::pages::{Ctx, html_with_status};
use crate::policy::{self, Action, Flag, UserType};
use crate::services::Refusal;
use crate::services::provisioning as service;
use crate::services::user_form::role_label;
use crate::state::AppState;
use crate::urlencoded::form_pairs;
use crate::web::redirect;

/// A mapping as the page lists it.
struct MappingRow {
    id: i64,
    /// "Group named “Support experts”", "Group with externalId …".
    group: String,
    /// "Collaborator", "Full-time, Manager".
    gives: String,
    teams: String,
    deactivates: bool,
}

/// The add form as typed.
#[derive(Default)]
struct MappingForm {
    match_kind: String,
    match_value: String,
    user_type: String,
    role_id: String,
    team_ids: Vec<i64>,
    deactivate_on_leave: bool,
}

impl MappingForm {
    fn has_team(&self, id: &i64) -> bool {
        self.team_ids.contains(id)
    }
}

#[derive(Template)]
#[template(path = "pages/settings_provisioning.html")]
struct ProvisioningPage {
    ctx: Ctx,
    rows: Vec<MappingRow>,
    roles: Vec<(i64, String)>,
    teams: Vec<Team>,
    form: MappingForm,
    errors: FieldErrors,
    notice: Option<&'static str>,
    scim_on: bool,
}

async fn render(
    current: &CurrentUser,
    state: &AppState,
    form: MappingForm,
    errors: FieldErrors,
    notice: Option<&'static str>,
) -> AppResult<HttpResponse> {
    let (mappings, roles, teams) = state
        .db(|conn| Ok((provisioning::all(conn)?, Role::all(conn)?, Team::all(conn)?)))
        .await?;
    let t = current.tr;
    let role_name = |id: Option<i64>| {
        id.and_then(|id| roles.iter().find(|r| r.id == id))
            .map(|r| role_label(r, t))
    };
    let rows = mappings
        .iter()
        .map(|m| MappingRow {
            id: m.id,
            group: t.fmt(
                &format!("provisioning.match.{}", m.match_kind.key()),
                &[("value", &m.match_value)],
            ),
            gives: match role_name(m.role_id) {
                Some(role) => format!(
                    "{}, {role}",
                    t.get(&format!("users.type.{}", m.user_type.key()))
                ),
                None => t
                    .get(&format!("users.type.{}", m.user_type.key()))
                    .to_string(),
            },
            teams: teams
                .iter()
                .filter(|team| m.team_ids.contains(&team.id))
                .map(|team| team.name.clone())
                .collect::<Vec<_>>()
                .join(", "),
            deactivates: m.deactivate_on_leave,
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    html_with_status(
        &ProvisioningPage {
            ctx: Ctx::for_user(current, "provisioning"),
            rows,
            roles: roles.iter().map(|r| (r.id, role_label(r, t))).collect(),
            teams,
            form,
            errors,
            notice,
            scim_on: current.org.scim_token_hash.is_some(),
        },
        status,
    )
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ProvisioningQuery {
    pub notice: String,
}

pub async fn show(
    current: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<ProvisioningQuery>,
) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::SettingsIntegrations))?;
    let notice = match query.notice.as_str() {
        "added" => Some("provisioning.notice.added"),
        "deleted" => Some("provisioning.notice.deleted"),
        _ => None,
    };
    let form = MappingForm {
        match_kind: "display_name".into(),
        user_type: "collaborator".into(),
        ..MappingForm::default()
    };
    render(&current, &state, form, FieldErrors::default(), notice).await
}

pub async fn create(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::SettingsIntegrations))?;
    let pairs = form_pairs(&body);
    let value = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let form = MappingForm {
        match_kind: value("match_kind"),
        match_value: value("match_value"),
        user_type: value("user_type"),
        role_id: value("role_id"),
        team_ids: pairs
            .iter()
            .filter(|(k, _)| k == "team_ids")
            .filter_map(|(_, v)| v.parse().ok())
            .collect(),
        deactivate_on_leave: value("deactivate_on_leave") == "on",
    };
    let who = current.caller(&state, &req);
    let (kind, user_type, role_id, teams, value_text, deactivate) = (
        MatchKind::parse(&form.match_kind),
        UserType::parse(&form.user_type),
        form.role_id.trim().parse().ok(),
        form.team_ids.clone(),
        form.match_value.clone(),
        form.deactivate_on_leave,
    );
    let outcome = state
        .db(move |conn| {
            Ok(write_transaction(conn, |conn| {
                let input = service::MappingInput {
                    match_kind: kind,
                    match_value: &value_text,
                    user_type,
                    role_id,
                    team_ids: &teams,
                    deactivate_on_leave: deactivate,
                };
                service::create_mapping(conn, &who.by(), &who.org, &input, who.now)
            }))
        })
        .await?;
    match outcome {
        Ok(_) => Ok(redirect("/settings/provisioning?notice=added")),
        Err(Refusal::Fields(fields)) => {
            let errors = fields.messages(current.tr);
            render(&current, &state, form, errors, None).await
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn delete(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let (who, id) = (current.caller(&state, &req), *id);
    state
        .db(move |conn| {
            Ok(write_transaction(conn, |conn| {
                service::delete_mapping(conn, &who.by(), id, who.now)
            })?)
        })
        .await?;
    Ok(redirect("/settings/provisioning?notice=deleted"))
}
