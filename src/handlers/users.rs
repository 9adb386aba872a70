//! Settings > Users: the list with seats, add (and invite), the user page
//! with edit form and effective permissions, deactivate and reactivate,
//! invitations, and the dormant-seats report.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{Duration, NaiveDateTime};
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::db::write_transaction;
use crate::error::{AppError, AppResult};
use crate::forms::FieldErrors;
use crate::i18n::{Lang, Tr};
use crate::models::invitation::{self, Delivery};
use crate::models::people::{self, Seats, Tab, UserFilter};
use crate::models::role::Role;
use crate::models::team::Team;
use crate::models::user::User;
use crate::pages::{Badge, Ctx, format_datetime, html_with_status, timezone_names};
use crate::policy::{self, Action, Flag, UserType};
use crate::services::user_form::{self, RoleOption, UserForm, role_label};
use crate::services::users::{self as admin, By, Outcome};
use crate::state::AppState;
use crate::urlencoded::form_pairs;
use crate::web::NoticeQuery;
use crate::web::redirect;

const PAGE_SIZE: i64 = 50;
pub const DEFAULT_DORMANT_DAYS: i64 = 30;

/// One row of the users list, ready to print.
pub struct UserRow {
    pub id: i64,
    pub badge: Badge,
    pub email: String,
    pub type_label: &'static str,
    pub role_label: String,
    pub teams: String,
    pub last_active: String,
    pub status: String,
    pub status_class: &'static str,
    pub window: String,
}

fn type_label(t: Tr, user_type: UserType) -> &'static str {
    t.get(&format!("users.type.{}", user_type.key()))
}

fn rows(
    current: &CurrentUser,
    users: Vec<(User, Option<Role>)>,
    teams: &std::collections::HashMap<i64, Vec<String>>,
    deliveries: &std::collections::HashMap<i64, Delivery>,
    now: NaiveDateTime,
) -> Vec<UserRow> {
    let t = current.tr;
    let today = current.today(now);
    users
        .into_iter()
        .map(|(user, role)| {
            let user_type = user.user_type();
            let (status, status_class) =
                status_of(t, &user, deliveries.get(&user.id), today, current.tz);
            UserRow {
                id: user.id,
                badge: Badge::new(&user.name, user_type == UserType::Collaborator),
                email: user.email.clone(),
                type_label: type_label(t, user_type),
                role_label: match (user_type, role.as_ref()) {
                    (UserType::Collaborator, _) | (_, None) => "—".into(),
                    (_, Some(role)) => role_label(role, t),
                },
                teams: teams
                    .get(&user.id)
                    .map(|v| v.join(", "))
                    .unwrap_or_default(),
                last_active: user
                    .last_active_at
                    .map(|at| format_datetime(at, current.tz))
                    .unwrap_or_else(|| t.get("users.never").to_string()),
                status,
                status_class,
                window: match (user.access_starts, user.access_ends) {
                    (Some(s), Some(e)) => format!("{s} – {e}"),
                    _ => String::new(),
                },
            }
        })
        .collect()
}

fn status_of(
    t: Tr,
    user: &User,
    delivery: Option<&Delivery>,
    today: chrono::NaiveDate,
    tz: chrono_tz::Tz,
) -> (String, &'static str) {
    if !user.active {
        return (t.get("users.status.deactivated").into(), "pill--neutral");
    }
    if user.password_hash.is_none() {
        return match delivery {
            Some(d) if d.status == "sent" => (
                t.fmt(
                    "users.status.invited_sent",
                    &[("date", &format_datetime(d.expires_at, tz))],
                ),
                "pill--pending",
            ),
            Some(d) if d.status == "failing" || d.status == "failed" => (
                t.fmt(
                    "users.status.invited_failing",
                    &[("error", d.last_error.as_deref().unwrap_or("?"))],
                ),
                "pill--danger",
            ),
            _ => (t.get("users.status.invited_queued").into(), "pill--pending"),
        };
    }
    match user.access_state(today) {
        crate::models::user::AccessState::WindowNotStarted(date) => (
            t.fmt(
                "users.status.window_upcoming",
                &[("date", &date.to_string())],
            ),
            "pill--pending",
        ),
        crate::models::user::AccessState::WindowEnded(date) => (
            t.fmt("users.status.window_ended", &[("date", &date.to_string())]),
            "pill--neutral",
        ),
        _ => (t.get("users.status.active").into(), "pill--open"),
    }
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    pub tab: Option<String>,
    pub q: Option<String>,
    pub user_type: Option<String>,
    pub role: Option<String>,
    pub team: Option<String>,
    pub dormant: Option<String>,
    pub after_name: Option<String>,
    pub after_id: Option<i64>,
    pub notice: Option<String>,
    pub added: Option<usize>,
    pub updated: Option<usize>,
}

impl ListQuery {
    fn dormant_days(&self) -> Option<i64> {
        self.dormant
            .as_deref()
            .and_then(|d| d.parse::<i64>().ok())
            .filter(|d| (1..=3650).contains(d))
    }

    fn filter(&self, now: NaiveDateTime) -> UserFilter {
        UserFilter {
            tab: Tab::parse(self.tab.as_deref().unwrap_or("")),
            search: self.q.clone(),
            user_type: self.user_type.as_deref().and_then(UserType::parse),
            role_id: self.role.as_deref().and_then(|r| r.parse().ok()),
            team_id: self.team.as_deref().and_then(|t| t.parse().ok()),
            inactive_since: self.dormant_days().map(|d| now - Duration::days(d)),
            after: self.after_name.clone().zip(self.after_id),
        }
    }
}

#[derive(Template)]
#[template(path = "pages/users_list.html")]
struct ListPage {
    ctx: Ctx,
    query: ListQuery,
    tab: Tab,
    seats: Seats,
    rows: Vec<UserRow>,
    next: Option<String>,
    roles: Vec<(i64, String)>,
    teams: Vec<Team>,
    notice: Option<String>,
}

impl ListPage {
    fn tab_link(&self, tab: &str) -> String {
        format!("/settings/users?tab={tab}")
    }

    fn selected(&self, value: &Option<String>, option: &str) -> bool {
        value.as_deref() == Some(option)
    }

    fn selected_id(&self, value: &Option<String>, id: &i64) -> bool {
        value.as_deref() == Some(id.to_string().as_str())
    }

    fn type_options(&self) -> Vec<(&'static str, &'static str)> {
        UserType::ALL
            .iter()
            .map(|&t| (t.key(), type_label(self.ctx.t, t)))
            .collect()
    }

    fn q(&self) -> &str {
        self.query.q.as_deref().unwrap_or("")
    }

    fn dormant(&self) -> String {
        self.query.dormant.clone().unwrap_or_default()
    }

    fn allowed_text(&self) -> String {
        match self.seats.collaborators_allowed {
            Some(n) => n.to_string(),
            None => self.ctx.t.get("users.seats.unlimited").to_string(),
        }
    }
}

fn notice_key(notice: Option<&str>) -> Option<&'static str> {
    match notice? {
        "invited" => Some("users.notice.invited"),
        "saved" => Some("users.notice.saved"),
        "deactivated" => Some("users.notice.deactivated"),
        "reactivated" => Some("users.notice.reactivated"),
        "resent" => Some("users.notice.resent"),
        "revoked" => Some("users.notice.revoked"),
        _ => None,
    }
}

fn role_choices(roles: &[Role], t: Tr) -> Vec<(i64, String)> {
    roles.iter().map(|r| (r.id, role_label(r, t))).collect()
}

pub async fn list(
    current: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::UsersView))?;
    let query = query.into_inner();
    let now = state.clock.now();
    let filter = query.filter(now);
    let org = current.org.clone();
    let today = current.today(now);
    let (seats, (users, more), teams, deliveries, roles, all_teams) = state
        .db(move |conn| {
            let seats = people::seats(conn, &org, today)?;
            let page = people::list_users(conn, &filter, PAGE_SIZE)?;
            let ids: Vec<i64> = page.0.iter().map(|(u, _)| u.id).collect();
            let teams = people::team_names_of(conn, &ids)?;
            let deliveries = invitation::deliveries(conn, &ids)?;
            Ok((
                seats,
                page,
                teams,
                deliveries,
                Role::all(conn)?,
                Team::all(conn)?,
            ))
        })
        .await?;
    let next = more.then(|| {
        users.last().map(|(u, _)| {
            let mut link = format!(
                "/settings/users?tab={}&after_name={}&after_id={}",
                Tab::parse(query.tab.as_deref().unwrap_or("")).key(),
                crate::urlencoded::url_encode(&u.name),
                u.id
            );
            for (key, value) in [
                ("q", &query.q),
                ("user_type", &query.user_type),
                ("role", &query.role),
                ("team", &query.team),
                ("dormant", &query.dormant),
            ] {
                if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                    link.push_str(&format!("&{key}={}", crate::urlencoded::url_encode(v)));
                }
            }
            link
        })
    });
    let rows = rows(&current, users, &teams, &deliveries, now);
    let page = ListPage {
        ctx: Ctx::for_user(&current, "users"),
        tab: Tab::parse(query.tab.as_deref().unwrap_or("")),
        notice: match query.notice.as_deref() {
            Some("imported") => Some(current.tr.fmt(
                "users.notice.imported",
                &[
                    ("added", &query.added.unwrap_or(0).to_string()),
                    ("updated", &query.updated.unwrap_or(0).to_string()),
                ],
            )),
            other => notice_key(other).map(|key| current.tr.get(key).to_string()),
        },
        seats,
        rows,
        next: next.flatten(),
        roles: role_choices(&roles, current.tr),
        teams: all_teams,
        query,
    };
    html_with_status(&page, StatusCode::OK)
}

#[derive(Template)]
#[template(path = "pages/user_new.html")]
struct NewPage {
    ctx: Ctx,
    form: UserForm,
    errors: FieldErrors,
    roles: Vec<RoleOption>,
    teams: Vec<Team>,
    languages: [Lang; 3],
    timezones: Vec<&'static str>,
}

async fn form_choices(state: &AppState) -> AppResult<(Vec<Role>, Vec<Team>)> {
    state
        .db(|conn| Ok((Role::all(conn)?, Team::all(conn)?)))
        .await
}

pub async fn new(current: CurrentUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::UsersManage))?;
    let (roles, teams) = form_choices(&state).await?;
    let default_role = roles
        .iter()
        .find(|r| r.builtin && r.key == "agent")
        .map(|r| r.id);
    let page = NewPage {
        ctx: Ctx::for_user(&current, "users"),
        form: UserForm::new_user(default_role),
        errors: FieldErrors::default(),
        roles: user_form::grantable_roles(&current.actor, &roles, current.tr),
        teams,
        languages: Lang::ALL,
        timezones: timezone_names().collect(),
    };
    html_with_status(&page, StatusCode::OK)
}

pub async fn create(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::UsersManage))?;
    let form = UserForm::from_pairs(form_pairs(&body));
    let (roles, teams) = form_choices(&state).await?;
    let t = current.tr;
    let render_errors = |errors: FieldErrors, form: UserForm, roles: &[Role], teams: Vec<Team>| {
        html_with_status(
            &NewPage {
                ctx: Ctx::for_user(&current, "users"),
                form,
                errors,
                roles: user_form::grantable_roles(&current.actor, roles, t),
                teams,
                languages: Lang::ALL,
                timezones: timezone_names().collect(),
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    let input = match user_form::validate(&form, &current.actor, &roles, &teams, t) {
        Ok(input) => input,
        Err(errors) => return render_errors(errors, form, &roles, teams),
    };
    let (actor, audit) = (current.actor.clone(), current.audit_actor(&req));
    let org = current.org.clone();
    let public_url = state.config.public_url.clone();
    let now = state.clock.now();
    let result = state
        .db(move |conn| {
            let by = By {
                actor: &actor,
                audit: &audit,
            };
            Ok(write_transaction(conn, |conn| {
                admin::add_user(conn, &by, &org, &input, &public_url, now)
            }))
        })
        .await?;
    match result {
        Ok(id) => Ok(redirect(&format!("/settings/users/{id}?notice=invited"))),
        Err(Outcome::Refused(refusal)) => {
            let mut errors = FieldErrors::default();
            let field = match refusal {
                admin::Refusal::EmailTaken => "email",
                admin::Refusal::CollaboratorAllowance(..) => "user_type",
                admin::Refusal::UnknownTeam => "teams",
                _ => "role_id",
            };
            errors.add(field, refusal.message(t));
            render_errors(errors, form, &roles, teams)
        }
        Err(other) => Err(other.into()),
    }
}

/// An explained decision for the effective-permissions table.
pub struct PermissionLine {
    pub label: &'static str,
    pub allowed: bool,
    pub why: String,
}

pub struct PermissionArea {
    pub label: &'static str,
    pub lines: Vec<PermissionLine>,
}

fn effective_permissions(actor: &policy::Actor, t: Tr) -> (Vec<PermissionArea>, String) {
    let areas = policy::Area::ALL
        .iter()
        .map(|&area| PermissionArea {
            label: t.get(area.key()),
            lines: Flag::ALL
                .iter()
                .filter(|f| f.area() == area)
                .map(|&flag| {
                    let decision = policy::can(actor, Action::Use(flag));
                    PermissionLine {
                        label: t.get(flag.key()),
                        allowed: decision.allowed,
                        why: crate::pages::explain_rule(&decision.rule, t),
                    }
                })
                .collect(),
        })
        .collect();
    let (_, scope_rule) = policy::conversation_scope(actor);
    (areas, crate::pages::explain_scope(&scope_rule, t))
}

#[derive(Template)]
#[template(path = "pages/user_show.html")]
struct ShowPage {
    ctx: Ctx,
    id: i64,
    badge: Badge,
    email: String,
    status: String,
    status_class: &'static str,
    pending: bool,
    active: bool,
    can_manage: bool,
    manage_reason: &'static str,
    form: UserForm,
    errors: FieldErrors,
    roles: Vec<RoleOption>,
    teams: Vec<Team>,
    languages: [Lang; 3],
    timezones: Vec<&'static str>,
    areas: Vec<PermissionArea>,
    scope: String,
    notice: Option<&'static str>,
    last_active: String,
    created: String,
}

struct Loaded {
    user: User,
    managed: policy::ManagedUser,
    team_ids: Vec<i64>,
    delivery: Option<Delivery>,
    roles: Vec<Role>,
    teams: Vec<Team>,
    actor: policy::Actor,
}

async fn load(state: &AppState, id: i64) -> AppResult<Loaded> {
    state
        .db(move |conn| {
            let (user, managed) = people::load_managed(conn, id)?.ok_or(AppError::NotFound)?;
            let team_ids = Team::ids_of_user(conn, id)?;
            let delivery = invitation::deliveries(conn, &[id])?.remove(&id);
            let (_, role, actor) = User::load_actor(conn, id)?.ok_or(AppError::NotFound)?;
            drop(role);
            Ok(Loaded {
                user,
                managed,
                team_ids,
                delivery,
                roles: Role::all(conn)?,
                teams: Team::all(conn)?,
                actor,
            })
        })
        .await
}

fn stored_form(user: &User, team_ids: &[i64]) -> UserForm {
    UserForm {
        user_type: user.user_type.clone(),
        name: user.name.clone(),
        email: user.email.clone(),
        language: user.language.clone().unwrap_or_default(),
        timezone: user.timezone.clone().unwrap_or_default(),
        role_id: user.role_id.map(|r| r.to_string()).unwrap_or_default(),
        teams: team_ids.iter().map(i64::to_string).collect(),
        access: user.conversation_access.clone(),
        starts: user
            .access_starts
            .map(|d| d.to_string())
            .unwrap_or_default(),
        ends: user.access_ends.map(|d| d.to_string()).unwrap_or_default(),
    }
}

fn show_page(
    current: &CurrentUser,
    loaded: Loaded,
    form: Option<UserForm>,
    errors: FieldErrors,
    notice: Option<&'static str>,
    now: NaiveDateTime,
) -> ShowPage {
    let t = current.tr;
    let (can_manage, rule) = policy::can_manage_user(&current.actor, &loaded.managed);
    let (status, status_class) = status_of(
        t,
        &loaded.user,
        loaded.delivery.as_ref(),
        current.today(now),
        current.tz,
    );
    let (areas, scope) = effective_permissions(&loaded.actor, t);
    let user = &loaded.user;
    ShowPage {
        ctx: Ctx::for_user(current, "users"),
        id: user.id,
        badge: Badge::new(&user.name, user.user_type() == UserType::Collaborator),
        email: user.email.clone(),
        status,
        status_class,
        pending: user.active && user.password_hash.is_none(),
        active: user.active,
        can_manage,
        manage_reason: t.get(rule.key()),
        form: form.unwrap_or_else(|| stored_form(user, &loaded.team_ids)),
        errors,
        roles: user_form::grantable_roles(&current.actor, &loaded.roles, t),
        teams: loaded.teams,
        languages: Lang::ALL,
        timezones: timezone_names().collect(),
        areas,
        scope,
        notice,
        last_active: user
            .last_active_at
            .map(|at| format_datetime(at, current.tz))
            .unwrap_or_else(|| t.get("users.never").to_string()),
        created: format_datetime(user.created_at, current.tz),
    }
}

pub async fn show(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<NoticeQuery>,
) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::UsersView))?;
    let loaded = load(&state, *id).await?;
    let page = show_page(
        &current,
        loaded,
        None,
        FieldErrors::default(),
        notice_key(query.notice.as_deref()),
        state.clock.now(),
    );
    html_with_status(&page, StatusCode::OK)
}

fn ensure_manage(current: &CurrentUser, target: &policy::ManagedUser) -> AppResult<()> {
    let (allowed, rule) = policy::can_manage_user(&current.actor, target);
    if allowed {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "manage user {}: {rule:?}",
            target.user_id
        )))
    }
}

pub async fn update(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::UsersManage))?;
    let loaded = load(&state, *id).await?;
    ensure_manage(&current, &loaded.managed)?;
    let form = UserForm::from_pairs(form_pairs(&body));
    let t = current.tr;
    let now = state.clock.now();
    let input = match user_form::validate(&form, &current.actor, &loaded.roles, &loaded.teams, t) {
        Ok(input) => input,
        Err(errors) => {
            let page = show_page(&current, loaded, Some(form), errors, None, now);
            return html_with_status(&page, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let (actor, audit) = (current.actor.clone(), current.audit_actor(&req));
    let org = current.org.clone();
    let user_id = loaded.user.id;
    let result = state
        .db(move |conn| {
            let by = By {
                actor: &actor,
                audit: &audit,
            };
            Ok(write_transaction(conn, |conn| {
                admin::update_user(conn, &by, &org, user_id, &input, now)
            }))
        })
        .await?;
    match result {
        Ok(()) => Ok(redirect(&format!("/settings/users/{user_id}?notice=saved"))),
        Err(Outcome::Refused(refusal)) => {
            let mut errors = FieldErrors::default();
            let field = match refusal {
                admin::Refusal::EmailTaken => "email",
                admin::Refusal::CollaboratorAllowance(..) => "user_type",
                _ => "role_id",
            };
            errors.add(field, refusal.message(t));
            let page = show_page(&current, loaded, Some(form), errors, None, now);
            html_with_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Template)]
#[template(path = "pages/user_status.html")]
struct StatusPage {
    ctx: Ctx,
    id: i64,
    name: String,
    deactivate: bool,
    open_conversations: i64,
    assignees: Vec<(i64, String)>,
    error: Option<String>,
    refused: Option<&'static str>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DeactivateForm {
    #[serde(default)]
    pub reassign_to: String,
}

async fn status_page(
    current: &CurrentUser,
    state: &AppState,
    id: i64,
    deactivate: bool,
    error: Option<String>,
) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::UsersManage))?;
    let loaded = load(state, id).await?;
    ensure_manage(current, &loaded.managed)?;
    if loaded.user.active != deactivate {
        return Ok(redirect(&format!("/settings/users/{id}")));
    }
    let (open_conversations, assignees) = state
        .db(move |conn| {
            Ok((
                people::open_conversations_of(conn, id)?,
                people::assignable_users(conn, Some(id))?,
            ))
        })
        .await?;
    let refused = if deactivate {
        let (allowed, rule) = policy::can_deactivate(&current.actor, &loaded.managed);
        (!allowed).then(|| current.tr.get(rule.key()))
    } else {
        None
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    html_with_status(
        &StatusPage {
            ctx: Ctx::for_user(current, "users"),
            id,
            name: loaded.user.name,
            deactivate,
            open_conversations,
            assignees,
            error,
            refused,
        },
        status,
    )
}

pub async fn confirm_deactivate(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    status_page(&current, &state, *id, true, None).await
}

pub async fn confirm_reactivate(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    status_page(&current, &state, *id, false, None).await
}

pub async fn deactivate(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<DeactivateForm>,
) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::UsersManage))?;
    let loaded = load(&state, *id).await?;
    let reassign_to = form.reassign_to.trim().parse::<i64>().ok();
    let (actor, audit) = (current.actor.clone(), current.audit_actor(&req));
    let now = state.clock.now();
    let user = loaded.user.clone();
    let managed = loaded.managed.clone();
    let result = state
        .db(move |conn| {
            let by = By {
                actor: &actor,
                audit: &audit,
            };
            Ok(write_transaction(conn, |conn| {
                admin::deactivate(conn, &by, &user, &managed, reassign_to, now)
            }))
        })
        .await?;
    match result {
        Ok(_) => Ok(redirect(&format!(
            "/settings/users/{}?notice=deactivated",
            loaded.user.id
        ))),
        Err(Outcome::Refused(refusal)) => {
            status_page(
                &current,
                &state,
                loaded.user.id,
                true,
                Some(refusal.message(current.tr)),
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn reactivate(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::UsersManage))?;
    let loaded = load(&state, *id).await?;
    let (actor, audit) = (current.actor.clone(), current.audit_actor(&req));
    let org = current.org.clone();
    let now = state.clock.now();
    let user = loaded.user.clone();
    let managed = loaded.managed.clone();
    let result = state
        .db(move |conn| {
            let by = By {
                actor: &actor,
                audit: &audit,
            };
            Ok(write_transaction(conn, |conn| {
                admin::reactivate(conn, &by, &org, &user, &managed, now)
            }))
        })
        .await?;
    match result {
        Ok(()) => Ok(redirect(&format!(
            "/settings/users/{}?notice=reactivated",
            loaded.user.id
        ))),
        Err(Outcome::Refused(refusal)) => {
            status_page(
                &current,
                &state,
                loaded.user.id,
                false,
                Some(refusal.message(current.tr)),
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

async fn pending_target(
    current: &CurrentUser,
    state: &AppState,
    id: i64,
) -> AppResult<(User, policy::ManagedUser)> {
    // Refused before anything is told about the user.
    policy::ensure(&current.actor, Action::Use(Flag::UsersManage))?;
    let loaded = load(state, id).await?;
    ensure_manage(current, &loaded.managed)?;
    if !(loaded.user.active && loaded.user.password_hash.is_none()) {
        return Err(AppError::NotFound);
    }
    Ok((loaded.user, loaded.managed))
}

pub async fn resend(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let (user, managed) = pending_target(&current, &state, *id).await?;
    let (actor, audit) = (current.actor.clone(), current.audit_actor(&req));
    let org = current.org.clone();
    let public_url = state.config.public_url.clone();
    let now = state.clock.now();
    let user_id = user.id;
    state
        .db(move |conn| {
            let by = By {
                actor: &actor,
                audit: &audit,
            };
            Ok(write_transaction(conn, |conn| {
                admin::resend_invitation(conn, &by, &org, &user, &managed, &public_url, now)
            })?)
        })
        .await?;
    Ok(redirect(&format!(
        "/settings/users/{user_id}?notice=resent"
    )))
}

pub async fn revoke(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let (user, managed) = pending_target(&current, &state, *id).await?;
    let (actor, audit) = (current.actor.clone(), current.audit_actor(&req));
    let now = state.clock.now();
    state
        .db(move |conn| {
            let by = By {
                actor: &actor,
                audit: &audit,
            };
            Ok(write_transaction(conn, |conn| {
                admin::revoke_invitation(conn, &by, &user, &managed, now)
            })?)
        })
        .await?;
    Ok(redirect("/settings/users?tab=pending&notice=revoked"))
}

#[derive(Deserialize, Default)]
pub struct DormantQuery {
    pub days: Option<String>,
}

impl DormantQuery {
    fn days(&self) -> i64 {
        self.days
            .as_deref()
            .and_then(|d| d.trim().parse().ok())
            .filter(|d| (1..=3650).contains(d))
            .unwrap_or(DEFAULT_DORMANT_DAYS)
    }
}

#[derive(Template)]
#[template(path = "pages/users_dormant.html")]
struct DormantPage {
    ctx: Ctx,
    days: i64,
    rows: Vec<UserRow>,
}

async fn dormant_rows(
    current: &CurrentUser,
    state: &AppState,
    days: i64,
) -> AppResult<Vec<UserRow>> {
    policy::ensure(&current.actor, Action::Use(Flag::UsersView))?;
    let now = state.clock.now();
    let since = now - Duration::days(days);
    let (users, teams) = state
        .db(move |conn| {
            let users = people::dormant_users(conn, since)?;
            let ids: Vec<i64> = users.iter().map(|(u, _)| u.id).collect();
            Ok((users, people::team_names_of(conn, &ids)?))
        })
        .await?;
    Ok(rows(current, users, &teams, &Default::default(), now))
}

pub async fn dormant(
    current: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<DormantQuery>,
) -> AppResult<HttpResponse> {
    let days = query.days();
    let rows = dormant_rows(&current, &state, days).await?;
    html_with_status(
        &DormantPage {
            ctx: Ctx::for_user(&current, "users"),
            days,
            rows,
        },
        StatusCode::OK,
    )
}

pub async fn dormant_csv(
    current: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<DormantQuery>,
) -> AppResult<HttpResponse> {
    let days = query.days();
    let rows = dormant_rows(&current, &state, days).await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let write = |out: &mut csv::Writer<Vec<u8>>, record: &[&str]| {
        out.write_record(record)
            .map_err(|e| AppError::Internal(format!("csv: {e}")))
    };
    write(
        &mut out,
        &["name", "email", "type", "role", "teams", "last_active"],
    )?;
    for row in &rows {
        let cells = [
            &row.badge.name,
            &row.email,
            row.type_label,
            &row.role_label,
            &row.teams,
            &row.last_active,
        ];
        let cells: Vec<_> = cells.iter().map(|c| crate::web::csv_cell(c)).collect();
        out.write_record(cells.iter().map(|c| c.as_ref()))
            .map_err(|e| AppError::Internal(format!("csv: {e}")))?;
    }
    let body = out
        .into_inner()
        .map_err(|e| AppError::Internal(format!("csv: {e}")))?;
    Ok(crate::web::csv_download(
        &format!("dormant-users-{days}-days.csv"),
        body,
    ))
}
