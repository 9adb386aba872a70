//! Settings > Teams: create, rename, delete (moving members first), members;
//! every write is a `services::teams` call.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::db::write_transaction;
use crate::error::{AppError, AppResult};
use crate::forms::FieldErrors;
use crate::models::team::{self, Team};
use crate::pages::{Badge, Ctx, html_with_status};
use crate::policy::Flag;
use crate::services::Refusal;
use crate::services::teams;
use crate::state::AppState;
use crate::web::redirect;
use crate::web::{DeleteForm, NoticeQuery};

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct NameForm {
    pub name: String,
}

fn notice_key(notice: Option<&str>) -> Option<&'static str> {
    match notice? {
        "created" => Some("teams.notice.created"),
        "renamed" => Some("teams.notice.renamed"),
        "deleted" => Some("teams.notice.deleted"),
        "members" => Some("teams.notice.members"),
        _ => None,
    }
}

#[derive(Template)]
#[template(path = "pages/teams.html")]
struct TeamsPage {
    ctx: Ctx,
    teams: Vec<(Team, i64)>,
    form: NameForm,
    errors: FieldErrors,
    notice: Option<&'static str>,
}

async fn teams_page(
    current: &CurrentUser,
    state: &AppState,
    form: NameForm,
    errors: FieldErrors,
    notice: Option<&'static str>,
) -> AppResult<HttpResponse> {
    let teams = state.db(|conn| Ok(team::all_with_sizes(conn)?)).await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    html_with_status(
        &TeamsPage {
            ctx: Ctx::for_user(current, "teams"),
            teams,
            form,
            errors,
            notice,
        },
        status,
    )
}

pub async fn list(
    current: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<NoticeQuery>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::TeamsManage)?;
    teams_page(
        &current,
        &state,
        NameForm::default(),
        FieldErrors::default(),
        notice_key(query.notice.as_deref()),
    )
    .await
}

/// Runs a team write in one transaction: its value, or the refusal (and
/// nothing written).
async fn write<T, F>(state: &AppState, work: F) -> AppResult<Result<T, Refusal>>
where
    T: Send + 'static,
    F: FnOnce(&mut crate::db::DbConn) -> Result<T, Refusal> + Send + 'static,
{
    state
        .db(move |conn| Ok(write_transaction(conn, work)))
        .await
}

/// The name's field error, or the refusal as an error page.
fn name_errors(current: &CurrentUser, refusal: Refusal) -> AppResult<FieldErrors> {
    match refusal {
        Refusal::Fields(fields) => Ok(fields.messages(current.tr)),
        other => Err(other.into()),
    }
}

pub async fn create(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    form: web::Form<NameForm>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::TeamsManage)?;
    let form = form.into_inner();
    let (actor, audit, now) = (
        current.actor.clone(),
        current.audit_actor(&req),
        state.clock.now(),
    );
    let name = form.name.clone();
    let created = write(&state, move |conn| {
        let ctx = teams::Ctx {
            actor: &actor,
            audit: &audit,
            now,
        };
        teams::create(conn, &ctx, &name)
    })
    .await?;
    match created {
        Ok(id) => Ok(redirect(&format!("/settings/teams/{id}?notice=created"))),
        Err(refusal) => {
            let errors = name_errors(&current, refusal)?;
            teams_page(&current, &state, form, errors, None).await
        }
    }
}

pub struct MemberRow {
    pub id: i64,
    pub badge: Badge,
    pub email: String,
}

#[derive(Template)]
#[template(path = "pages/team.html")]
struct TeamPage {
    ctx: Ctx,
    team: Team,
    members: Vec<MemberRow>,
    candidates: Vec<(i64, String)>,
    other_teams: Vec<Team>,
    form: NameForm,
    errors: FieldErrors,
    delete_error: Option<String>,
    notice: Option<&'static str>,
}

async fn team_page(
    current: &CurrentUser,
    state: &AppState,
    id: i64,
    form: Option<NameForm>,
    errors: FieldErrors,
    delete_error: Option<String>,
    notice: Option<&'static str>,
) -> AppResult<HttpResponse> {
    let (team, members, candidates, all) = state
        .db(move |conn| {
            let team = Team::find(conn, id)?.ok_or(AppError::NotFound)?;
            let members = team::members(conn, id)?;
            let member_ids: Vec<i64> = members.iter().map(|m| m.0).collect();
            let candidates = crate::models::people::addable_to_team(conn, &member_ids)?;
            Ok((team, members, candidates, Team::all(conn)?))
        })
        .await?;
    let status = if errors.is_empty() && delete_error.is_none() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    html_with_status(
        &TeamPage {
            ctx: Ctx::for_user(current, "teams"),
            form: form.unwrap_or(NameForm {
                name: team.name.clone(),
            }),
            members: members
                .into_iter()
                .map(|(id, name, email, user_type)| MemberRow {
                    id,
                    badge: Badge::for_user(&name, Some(user_type)),
                    email,
                })
                .collect(),
            candidates,
            other_teams: all.into_iter().filter(|t| t.id != id).collect(),
            team,
            errors,
            delete_error,
            notice,
        },
        status,
    )
}

pub async fn show(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<NoticeQuery>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::TeamsManage)?;
    team_page(
        &current,
        &state,
        *id,
        None,
        FieldErrors::default(),
        None,
        notice_key(query.notice.as_deref()),
    )
    .await
}

async fn find_team(state: &AppState, id: i64) -> AppResult<Team> {
    state
        .db(move |conn| Team::find(conn, id)?.ok_or(AppError::NotFound))
        .await
}

pub async fn rename(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<NameForm>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::TeamsManage)?;
    let team = find_team(&state, *id).await?;
    let form = form.into_inner();
    let (actor, audit, now) = (
        current.actor.clone(),
        current.audit_actor(&req),
        state.clock.now(),
    );
    let (team_id, name, target) = (team.id, form.name.clone(), team.clone());
    let renamed = write(&state, move |conn| {
        let ctx = teams::Ctx {
            actor: &actor,
            audit: &audit,
            now,
        };
        teams::rename(conn, &ctx, &target, &name)
    })
    .await?;
    match renamed {
        Ok(()) => Ok(redirect(&format!(
            "/settings/teams/{team_id}?notice=renamed"
        ))),
        Err(refusal) => {
            let errors = name_errors(&current, refusal)?;
            team_page(&current, &state, team_id, Some(form), errors, None, None).await
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MemberForm {
    pub user_id: i64,
}

async fn change_member(
    req: &HttpRequest,
    current: &CurrentUser,
    state: &AppState,
    team_id: i64,
    user_id: i64,
    member: bool,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::TeamsManage)?;
    let team = find_team(state, team_id).await?;
    let (actor, audit, now) = (
        current.actor.clone(),
        current.audit_actor(req),
        state.clock.now(),
    );
    write(state, move |conn| {
        let ctx = teams::Ctx {
            actor: &actor,
            audit: &audit,
            now,
        };
        teams::set_member(conn, &ctx, &team, user_id, member)
    })
    .await??;
    Ok(redirect(&format!(
        "/settings/teams/{team_id}?notice=members"
    )))
}

pub async fn add_member(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<MemberForm>,
) -> AppResult<HttpResponse> {
    change_member(&req, &current, &state, *id, form.user_id, true).await
}

pub async fn remove_member(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
) -> AppResult<HttpResponse> {
    let (team_id, user_id) = path.into_inner();
    change_member(&req, &current, &state, team_id, user_id, false).await
}

pub async fn delete(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<DeleteForm>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::TeamsManage)?;
    let team = find_team(&state, *id).await?;
    let move_to = form
        .move_to
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|&t| t != team.id);
    let team_id = team.id;
    let members = state
        .db(move |conn| Ok(team::members(conn, team_id)?.len()))
        .await?;
    if members > 0 && move_to.is_none() {
        let message = current
            .tr
            .fmt("teams.error.not_empty", &[("count", &members.to_string())]);
        return team_page(
            &current,
            &state,
            team.id,
            None,
            FieldErrors::default(),
            Some(message),
            None,
        )
        .await;
    }
    let (actor, audit, now) = (
        current.actor.clone(),
        current.audit_actor(&req),
        state.clock.now(),
    );
    write(&state, move |conn| {
        let ctx = teams::Ctx {
            actor: &actor,
            audit: &audit,
            now,
        };
        teams::delete(conn, &ctx, &team, move_to)
    })
    .await??;
    Ok(redirect("/settings/teams?notice=deleted"))
}
