//! Settings > Teams: create, rename, delete (moving members first), members.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use serde_json::json;

use crate::auth::CurrentUser;
use crate::db::write_transaction;
use crate::error::{AppError, AppResult};
use crate::forms::{Check, FieldErrors};
use crate::models::audit::{self, Event};
use crate::models::team::{self, NewTeam, Team};
use crate::pages::{Badge, Ctx, html_with_status};
use crate::policy::Flag;
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

async fn check_name(
    current: &CurrentUser,
    state: &AppState,
    name: &str,
    except: Option<i64>,
) -> AppResult<FieldErrors> {
    let mut errors = FieldErrors::default();
    Check {
        t: current.tr,
        errors: &mut errors,
    }
    .required("name", name, 80);
    if errors.is_empty() {
        let name = name.to_string();
        if state
            .db(move |conn| Ok(team::name_taken(conn, &name, except)?))
            .await?
        {
            errors.add("name", current.tr.get("teams.error.taken"));
        }
    }
    Ok(errors)
}

pub async fn create(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    form: web::Form<NameForm>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::TeamsManage)?;
    let form = form.into_inner();
    let errors = check_name(&current, &state, &form.name, None).await?;
    if !errors.is_empty() {
        return teams_page(&current, &state, form, errors, None).await;
    }
    let actor = current.audit_actor(&req);
    let now = state.clock.now();
    let id = state
        .db(move |conn| {
            write_transaction(conn, |conn| {
                let name = form.name.trim();
                let id = Team::create(
                    conn,
                    &NewTeam {
                        name,
                        created_at: now,
                    },
                )?;
                audit::record(
                    conn,
                    &actor,
                    Event {
                        action: "team.created",
                        target_type: "team",
                        target_id: Some(id),
                        target_label: name,
                        before: None,
                        after: Some(json!({ "name": name })),
                    },
                    now,
                )?;
                Ok::<_, AppError>(id)
            })
        })
        .await?;
    Ok(redirect(&format!("/settings/teams/{id}?notice=created")))
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
            let candidates = crate::admin::addable_to_team(conn, &member_ids)?;
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
                    badge: Badge::new(&name, user_type == "collaborator"),
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
    let errors = check_name(&current, &state, &form.name, Some(team.id)).await?;
    if !errors.is_empty() {
        return team_page(&current, &state, team.id, Some(form), errors, None, None).await;
    }
    let actor = current.audit_actor(&req);
    let now = state.clock.now();
    let team_id = team.id;
    state
        .db(move |conn| {
            write_transaction(conn, |conn| {
                team::rename(conn, team.id, &form.name)?;
                audit::record(
                    conn,
                    &actor,
                    Event {
                        action: "team.renamed",
                        target_type: "team",
                        target_id: Some(team.id),
                        target_label: form.name.trim(),
                        before: Some(json!({ "name": team.name })),
                        after: Some(json!({ "name": form.name.trim() })),
                    },
                    now,
                )?;
                Ok::<_, AppError>(())
            })
        })
        .await?;
    Ok(redirect(&format!(
        "/settings/teams/{team_id}?notice=renamed"
    )))
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
    add: bool,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::TeamsManage)?;
    let team = find_team(state, team_id).await?;
    let actor = current.audit_actor(req);
    let now = state.clock.now();
    state
        .db(move |conn| {
            write_transaction(conn, |conn| {
                let user =
                    crate::models::user::User::find(conn, user_id)?.ok_or(AppError::NotFound)?;
                let changed = if add {
                    let members = Team::ids_of_user(conn, user_id)?;
                    if members.contains(&team.id) {
                        false
                    } else {
                        Team::add_member(conn, team.id, user_id)?;
                        true
                    }
                } else {
                    team::remove_member(conn, team.id, user_id)? > 0
                };
                if changed {
                    audit::record(
                        conn,
                        &actor,
                        Event {
                            action: if add {
                                "team.member_added"
                            } else {
                                "team.member_removed"
                            },
                            target_type: "team",
                            target_id: Some(team.id),
                            target_label: &team.name,
                            before: None,
                            after: Some(json!({ "user": user.email })),
                        },
                        now,
                    )?;
                }
                Ok::<_, AppError>(())
            })
        })
        .await?;
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
    let actor = current.audit_actor(&req);
    let now = state.clock.now();
    state
        .db(move |conn| {
            write_transaction(conn, |conn| {
                if let Some(target) = move_to {
                    Team::find(conn, target)?.ok_or(AppError::NotFound)?;
                }
                team::delete(conn, team.id, move_to)?;
                audit::record(
                    conn,
                    &actor,
                    Event {
                        action: "team.deleted",
                        target_type: "team",
                        target_id: Some(team.id),
                        target_label: &team.name,
                        before: Some(json!({ "name": team.name, "members": members })),
                        after: Some(json!({ "members_moved_to": move_to })),
                    },
                    now,
                )?;
                Ok::<_, AppError>(())
            })
        })
        .await?;
    Ok(redirect("/settings/teams?notice=deleted"))
}
