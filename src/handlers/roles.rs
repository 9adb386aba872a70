//! Settings > Roles: built-in roles read-only with their flags; custom roles
//! created and edited by flags grouped by area; deleting a role in use asks
//! where its users go.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::auth::CurrentUser;
use crate::db::write_transaction;
use crate::error::AppResult;
use crate::forms::FieldErrors;
use crate::i18n::Tr;
use crate::models::role::{self, Role};
use crate::pages::{Ctx, html_with_status};
use crate::policy::{self, Area, BuiltinRole, Flag, FlagSet};
use crate::services::user_form::role_label;
use crate::services::{By, Fields, Refusal, roles};
use crate::state::AppState;
use crate::urlencoded::form_pairs;
use crate::web::redirect;
use crate::web::{DeleteForm, NoticeQuery};

pub struct FlagBox {
    pub key: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

pub struct AreaBoxes {
    pub label: &'static str,
    pub flags: Vec<FlagBox>,
}

/// The flags by area; `offered` limits them to those the editor may grant.
fn boxes(t: Tr, flags: FlagSet, offered: Option<FlagSet>) -> Vec<AreaBoxes> {
    Area::ALL
        .iter()
        .map(|&area| AreaBoxes {
            label: t.get(area.key()),
            flags: Flag::ALL
                .iter()
                .filter(|f| f.area() == area)
                .filter(|&&f| offered.is_none_or(|o| o.contains(f)))
                .map(|&f| FlagBox {
                    key: f.key(),
                    label: t.get(f.key()),
                    checked: flags.contains(f),
                })
                .collect(),
        })
        .filter(|a| !a.flags.is_empty())
        .collect()
}

pub struct RoleCard {
    pub id: i64,
    pub label: String,
    pub builtin: bool,
    pub users: i64,
    pub areas: Vec<AreaBoxes>,
}

#[derive(Template)]
#[template(path = "pages/roles.html")]
struct RolesPage {
    ctx: Ctx,
    roles: Vec<RoleCard>,
    notice: Option<&'static str>,
}

pub async fn list(
    current: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<NoticeQuery>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::UsersManageRoles)?;
    let (roles, usage) = state
        .db(|conn| Ok((Role::all(conn)?, role::usage(conn)?)))
        .await?;
    let t = current.tr;
    let cards = roles
        .iter()
        .map(|r| {
            let flags = r.grant().flags;
            RoleCard {
                id: r.id,
                label: role_label(r, t),
                builtin: r.builtin,
                users: usage.get(&r.id).copied().unwrap_or(0),
                areas: boxes(t, flags, None)
                    .into_iter()
                    .map(|mut a| {
                        a.flags.retain(|f| f.checked);
                        a
                    })
                    .filter(|a| !a.flags.is_empty())
                    .collect(),
            }
        })
        .collect();
    let notice = match query.notice.as_deref() {
        Some("created") => Some("roles.notice.created"),
        Some("saved") => Some("roles.notice.saved"),
        Some("deleted") => Some("roles.notice.deleted"),
        _ => None,
    };
    html_with_status(
        &RolesPage {
            ctx: Ctx::for_user(&current, "roles"),
            roles: cards,
            notice,
        },
        StatusCode::OK,
    )
}

#[derive(Template)]
#[template(path = "pages/role_form.html")]
struct RoleFormPage {
    ctx: Ctx,
    id: Option<i64>,
    name: String,
    areas: Vec<AreaBoxes>,
    errors: FieldErrors,
    users: i64,
    other_roles: Vec<(i64, String)>,
    delete_error: Option<String>,
}

struct Parsed {
    name: String,
    flags: FlagSet,
}

fn parse(body: &[u8]) -> Parsed {
    let mut name = String::new();
    let mut flags = FlagSet::default();
    for (key, value) in form_pairs(body) {
        match key.as_str() {
            "name" => name = value,
            "flags" => {
                if let Some(flag) = Flag::parse(&value) {
                    flags = flags.with(flag);
                }
            }
            _ => {}
        }
    }
    Parsed { name, flags }
}

/// Runs a role write; field problems come back as the form's messages.
async fn write<T, F>(
    req: &HttpRequest,
    current: &CurrentUser,
    state: &AppState,
    work: F,
) -> AppResult<Result<T, Fields>>
where
    T: Send + 'static,
    F: FnOnce(&mut crate::db::DbConn, &By, chrono::NaiveDateTime) -> Result<T, Refusal>
        + Send
        + 'static,
{
    let who = current.caller(state, req);
    let now = state.clock.now();
    state
        .db(move |conn| {
            let by = who.by();
            match write_transaction(conn, |conn| work(conn, &by, now)) {
                Ok(done) => Ok(Ok(done)),
                Err(Refusal::Fields(fields)) => Ok(Err(fields)),
                Err(other) => Err(other.into()),
            }
        })
        .await
}

#[allow(clippy::too_many_arguments)]
async fn form_page(
    current: &CurrentUser,
    state: &AppState,
    id: Option<i64>,
    name: String,
    flags: FlagSet,
    errors: FieldErrors,
    delete_error: Option<String>,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let (roles, usage) = state
        .db(|conn| Ok((Role::all(conn)?, role::usage(conn)?)))
        .await?;
    let t = current.tr;
    html_with_status(
        &RoleFormPage {
            ctx: Ctx::for_user(current, "roles"),
            users: id.and_then(|id| usage.get(&id).copied()).unwrap_or(0),
            other_roles: roles
                .iter()
                .filter(|r| {
                    let grant = r.grant();
                    Some(r.id) != id
                        && grant.builtin != Some(BuiltinRole::Owner)
                        && grant
                            .flags
                            .is_subset_of(policy::actor_flags(&current.actor))
                })
                .map(|r| (r.id, role_label(r, t)))
                .collect(),
            id,
            name,
            areas: boxes(t, flags, Some(policy::grantable_flags(&current.actor))),
            errors,
            delete_error,
        },
        status,
    )
}

pub async fn new(current: CurrentUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    current.ensure(Flag::UsersManageRoles)?;
    form_page(
        &current,
        &state,
        None,
        String::new(),
        FlagSet::default(),
        FieldErrors::default(),
        None,
        StatusCode::OK,
    )
    .await
}

pub async fn create(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::UsersManageRoles)?;
    let parsed = parse(&body);
    let (name, flags) = (parsed.name.clone(), parsed.flags);
    let written = write(&req, &current, &state, move |conn, by, now| {
        let input = roles::RoleInput { name: &name, flags };
        roles::create(conn, by, &input, now)
    })
    .await?;
    match written {
        Ok(_) => Ok(redirect("/settings/roles?notice=created")),
        Err(fields) => {
            form_page(
                &current,
                &state,
                None,
                parsed.name,
                parsed.flags,
                fields.messages(current.tr),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

async fn custom_role(state: &AppState, id: i64) -> AppResult<Role> {
    state.db(move |conn| Role::find_custom(conn, id)).await
}

/// A custom role this editor may change at all (not one above their own).
async fn editable_role(current: &CurrentUser, state: &AppState, id: i64) -> AppResult<Role> {
    let actor = current.actor.clone();
    state
        .db(move |conn| Ok(roles::editable(conn, &actor, id)?))
        .await
}

pub async fn edit(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::UsersManageRoles)?;
    let role = editable_role(&current, &state, *id).await?;
    let flags = role.grant().flags;
    form_page(
        &current,
        &state,
        Some(role.id),
        role.name,
        flags,
        FieldErrors::default(),
        None,
        StatusCode::OK,
    )
    .await
}

pub async fn update(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::UsersManageRoles)?;
    let role = editable_role(&current, &state, *id).await?;
    let parsed = parse(&body);
    let (name, flags, role_id) = (parsed.name.clone(), parsed.flags, role.id);
    let written = write(&req, &current, &state, move |conn, by, now| {
        let input = roles::RoleInput { name: &name, flags };
        roles::update(conn, by, role_id, &input, now)
    })
    .await?;
    match written {
        Ok(()) => Ok(redirect("/settings/roles?notice=saved")),
        Err(fields) => {
            form_page(
                &current,
                &state,
                Some(role.id),
                parsed.name,
                parsed.flags,
                fields.messages(current.tr),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

pub async fn delete(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<DeleteForm>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::UsersManageRoles)?;
    let role = custom_role(&state, *id).await?;
    let move_to = form.move_to.trim().parse::<i64>().ok();
    let role_id = role.id;
    let written = write(&req, &current, &state, move |conn, by, now| {
        roles::delete(conn, by, role_id, move_to, now)
    })
    .await?;
    match written {
        Ok(()) => Ok(redirect("/settings/roles?notice=deleted")),
        Err(fields) => {
            let message = fields.0.first().map(|(_, p)| p.message(current.tr));
            let flags = role.grant().flags;
            form_page(
                &current,
                &state,
                Some(role.id),
                role.name,
                flags,
                FieldErrors::default(),
                message,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}
