//! Settings > Roles: built-in roles read-only with their flags; custom roles
//! created and edited by flags grouped by area; deleting a role in use asks
//! where its users go.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde_json::json;

use crate::auth::CurrentUser;
use crate::db::write_transaction;
use crate::error::{AppError, AppResult};
use crate::forms::{Check, FieldErrors};
use crate::i18n::Tr;
use crate::models::audit::{self, Event};
use crate::models::role::{self, Role};
use crate::pages::{Ctx, html_with_status};
use crate::policy::{self, Area, BuiltinRole, Flag, FlagSet, RoleChange, RoleRule};
use crate::services::user_form::role_label;
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

/// Field errors of a new or edited role (`existing`); a role above the
/// editor's own is refused outright.
async fn validate(
    current: &CurrentUser,
    state: &AppState,
    parsed: &Parsed,
    existing: Option<&Role>,
) -> AppResult<FieldErrors> {
    let t = current.tr;
    let mut errors = FieldErrors::default();
    Check {
        t,
        errors: &mut errors,
    }
    .required("name", &parsed.name, 60);
    let grant = existing.map(Role::grant);
    let change = match &grant {
        Some(role) => RoleChange::Edit {
            role,
            flags: parsed.flags,
        },
        None => RoleChange::Create {
            flags: parsed.flags,
        },
    };
    match policy::can_change_role(&current.actor, change) {
        (true, _) => {}
        (false, RoleRule::FlagsAboveYours) => {
            errors.add("flags", t.get(RoleRule::FlagsAboveYours.key()))
        }
        (false, rule) => {
            return Err(AppError::Forbidden(format!(
                "role change refused by {rule:?}"
            )));
        }
    }
    let except = existing.map(|r| r.id);
    if parsed.flags == FlagSet::default() {
        errors.add("flags", t.get("roles.error.no_flags"));
    }
    if errors.get("name").is_none() {
        let name = parsed.name.clone();
        if state
            .db(move |conn| Ok(role::name_taken(conn, &name, except)?))
            .await?
        {
            errors.add("name", t.get("roles.error.taken"));
        }
    }
    Ok(errors)
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

/// Audit entry for a role change: (id, name) of the role, (before, after).
fn record(
    conn: &mut crate::db::DbConn,
    actor: &audit::AuditActor,
    action: &str,
    role: (i64, &str),
    change: (Option<serde_json::Value>, Option<serde_json::Value>),
    now: chrono::NaiveDateTime,
) -> diesel::QueryResult<()> {
    audit::record(
        conn,
        actor,
        Event {
            action,
            target_type: "role",
            target_id: Some(role.0),
            target_label: role.1,
            before: change.0,
            after: change.1,
        },
        now,
    )
}

pub async fn create(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::UsersManageRoles)?;
    let parsed = parse(&body);
    let errors = validate(&current, &state, &parsed, None).await?;
    if !errors.is_empty() {
        return form_page(
            &current,
            &state,
            None,
            parsed.name,
            parsed.flags,
            errors,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let actor = current.audit_actor(&req);
    let now = state.clock.now();
    state
        .db(move |conn| {
            write_transaction(conn, |conn| {
                let id = role::create_custom(conn, &parsed.name, parsed.flags, now)?;
                let after = json!({ "name": parsed.name.trim(), "flags": parsed.flags.to_text() });
                record(
                    conn,
                    &actor,
                    "role.created",
                    (id, parsed.name.trim()),
                    (None, Some(after)),
                    now,
                )?;
                Ok::<_, AppError>(())
            })
        })
        .await?;
    Ok(redirect("/settings/roles?notice=created"))
}

async fn custom_role(state: &AppState, id: i64) -> AppResult<Role> {
    state.db(move |conn| Role::find_custom(conn, id)).await
}

/// A custom role this editor may change at all (not one above their own).
async fn editable_role(current: &CurrentUser, state: &AppState, id: i64) -> AppResult<Role> {
    let role = custom_role(state, id).await?;
    let grant = role.grant();
    let change = RoleChange::Edit {
        role: &grant,
        flags: grant.flags,
    };
    match policy::can_change_role(&current.actor, change) {
        (true, _) => Ok(role),
        (false, rule) => Err(AppError::Forbidden(format!(
            "role {id} refused by {rule:?}"
        ))),
    }
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
    let errors = validate(&current, &state, &parsed, Some(&role)).await?;
    if !errors.is_empty() {
        return form_page(
            &current,
            &state,
            Some(role.id),
            parsed.name,
            parsed.flags,
            errors,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let actor = current.audit_actor(&req);
    let now = state.clock.now();
    state
        .db(move |conn| {
            write_transaction(conn, |conn| {
                role::update_custom(conn, role.id, &parsed.name, parsed.flags)?;
                let before = json!({ "name": role.name, "flags": role.permissions });
                let after = json!({ "name": parsed.name.trim(), "flags": parsed.flags.to_text() });
                if before != after {
                    record(
                        conn,
                        &actor,
                        "role.updated",
                        (role.id, parsed.name.trim()),
                        (Some(before), Some(after)),
                        now,
                    )?;
                }
                Ok::<_, AppError>(())
            })
        })
        .await?;
    Ok(redirect("/settings/roles?notice=saved"))
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
    let role_id = role.id;
    let users = state
        .db(move |conn| Ok(role::usage(conn)?.get(&role_id).copied().unwrap_or(0)))
        .await?;
    let move_to = form
        .move_to
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|&m| m != role.id);
    let target = match move_to {
        Some(m) => state.db(move |conn| Ok(role::find(conn, m)?)).await?,
        None => None,
    };
    let (grant, target_grant) = (role.grant(), target.as_ref().map(Role::grant));
    let (allowed, rule) = policy::can_change_role(
        &current.actor,
        RoleChange::Delete {
            role: &grant,
            move_to: target_grant.as_ref().filter(|_| users > 0),
        },
    );
    if !allowed && rule == RoleRule::RoleAboveYours {
        return Err(AppError::Forbidden(format!(
            "deleting role {} refused by {rule:?}",
            role.id
        )));
    }
    let target_ok = allowed && target.is_some();
    if users > 0 && !target_ok {
        let message = if allowed {
            current
                .tr
                .fmt("roles.error.in_use", &[("count", &users.to_string())])
        } else {
            current.tr.get(rule.key()).to_string()
        };
        let flags = role.grant().flags;
        return form_page(
            &current,
            &state,
            Some(role.id),
            role.name,
            flags,
            FieldErrors::default(),
            Some(message),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let actor = current.audit_actor(&req);
    let now = state.clock.now();
    state
        .db(move |conn| {
            write_transaction(conn, |conn| {
                let moved = role::delete_custom(conn, role.id, move_to.filter(|_| target_ok))?;
                let before =
                    json!({ "name": role.name, "flags": role.permissions, "users": moved });
                let after = json!({ "users_moved_to": target.map(|r| r.name) });
                record(
                    conn,
                    &actor,
                    "role.deleted",
                    (role.id, &role.name),
                    (Some(before), Some(after)),
                    now,
                )?;
                Ok::<_, AppError>(())
            })
        })
        .await?;
    Ok(redirect("/settings/roles?notice=deleted"))
}
