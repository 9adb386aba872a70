//! The token's own user, users (read; writes for those who manage users) and teams.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::idempotency::{self, Created};
use super::{ApiError, ApiResult, ApiUser, Page, cursor, page_limit, time};
use crate::db::DbConn;
use crate::db::schema::{roles, team_memberships, users};
use crate::i18n::Lang;
use crate::models::people;
use crate::models::role::Role;
use crate::models::team::Team;
use crate::models::user::User;
use crate::policy::{self, Action, ConversationAccess, Flag, UserType};
use crate::services::users::{self as admin, By, UserInput};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct UserOut {
    pub id: i64,
    pub name: String,
    pub email: String,
    /// `full_time`, `collaborator` or `seasonal`.
    pub user_type: String,
    /// The role's key (`owner`, `admin`, `manager`, `agent` or a custom role's); none for collaborators.
    pub role: Option<String>,
    pub role_id: Option<i64>,
    pub language: Option<String>,
    pub timezone: Option<String>,
    /// `all` or `teams`.
    pub conversation_access: String,
    pub team_ids: Vec<i64>,
    pub active: bool,
    /// Invited and not signed up yet.
    pub invited: bool,
    pub access_starts: Option<NaiveDate>,
    pub access_ends: Option<NaiveDate>,
    pub last_active_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

pub fn user_out(conn: &mut DbConn, user: &User) -> ApiResult<UserOut> {
    let role: Option<String> = match user.role_id {
        Some(id) => roles::table
            .find(id)
            .select(roles::key)
            .first(conn)
            .optional()?,
        None => None,
    };
    let team_ids = Team::ids_of_user(conn, user.id)?;
    Ok(shape(user, role, team_ids))
}

fn shape(user: &User, role: Option<String>, team_ids: Vec<i64>) -> UserOut {
    UserOut {
        id: user.id,
        name: user.name.clone(),
        email: user.email.clone(),
        user_type: user.user_type.key().to_string(),
        role,
        role_id: user.role_id,
        language: user.language.clone(),
        timezone: user.timezone.clone(),
        conversation_access: user.conversation_access.key().to_string(),
        team_ids,
        active: user.active,
        invited: user.password_hash.is_none(),
        access_starts: user.access_starts,
        access_ends: user.access_ends,
        last_active_at: user.last_active_at.map(time),
        created_at: time(user.created_at),
    }
}

/// The user the token belongs to.
#[utoipa::path(get, path = "/api/v1/me", tag = "users", responses((status = 200, body = UserOut)))]
pub async fn me(api: ApiUser, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let user = api.user.clone();
    let out = super::db(&state, move |conn| user_out(conn, &user)).await?;
    Ok(HttpResponse::Ok().json(out))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    pub cursor: Option<String>,
    /// 1–100, default 50.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// Every user, by id (needs the permission to view users).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(UserQuery),
    responses((status = 200, body = Page<UserOut>)))]
pub async fn users(
    api: ApiUser,
    state: web::Data<AppState>,
    query: web::Query<UserQuery>,
) -> ApiResult<HttpResponse> {
    api.ensure(Action::Use(Flag::UsersView))?;
    let q = query.into_inner();
    let limit = page_limit(q.limit)?;
    let after: Option<i64> = cursor::decode(q.cursor.as_deref())?;
    let page = super::db(&state, move |conn| {
        let mut rows: Vec<User> = users::table
            .filter(users::id.gt(after.unwrap_or(0)))
            .order(users::id)
            .limit(limit + 1)
            .load(conn)?;
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        // Roles and teams for the whole page in two queries.
        let role_keys: std::collections::HashMap<i64, String> = roles::table
            .select((roles::id, roles::key))
            .load(conn)?
            .into_iter()
            .collect();
        let ids: Vec<i64> = rows.iter().map(|u| u.id).collect();
        let memberships: Vec<(i64, i64)> = team_memberships::table
            .filter(team_memberships::user_id.eq_any(&ids))
            .select((team_memberships::user_id, team_memberships::team_id))
            .order(team_memberships::team_id)
            .load(conn)?;
        let data = rows
            .iter()
            .map(|u| {
                let role = u.role_id.and_then(|r| role_keys.get(&r).cloned());
                let teams = memberships
                    .iter()
                    .filter(|(user, _)| *user == u.id)
                    .map(|(_, team)| *team)
                    .collect();
                shape(u, role, teams)
            })
            .collect();
        let next_cursor = more
            .then(|| rows.last().map(|u| cursor::encode(&u.id)))
            .flatten();
        Ok(Page { data, next_cursor })
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = i64, Path)), responses((status = 200, body = UserOut)))]
pub async fn user(
    api: ApiUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    api.ensure(Action::Use(Flag::UsersView))?;
    let id = *id;
    let out = super::db(&state, move |conn| {
        let user = User::find(conn, id)?.ok_or_else(ApiError::not_found)?;
        user_out(conn, &user)
    })
    .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// A user as written through the API (and SCIM): absent fields keep their
/// value on update.
#[derive(Deserialize, Serialize, ToSchema, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct UserFields {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "[^\\t\\n\\u000b\\f\\r \\u0000\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub name: Option<String>,
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    /// `full_time`, `collaborator` or `seasonal`.
    #[schema(value_type = Option<super::values::UserType>)]
    pub user_type: Option<String>,
    /// A role key (`admin`, `manager`, `agent`, or a custom role's key).
    pub role: Option<String>,
    /// A language code (`en`, `es`, `de`).
    #[schema(value_type = Option<super::values::Language>)]
    pub language: Option<String>,
    /// An IANA timezone, e.g. `Europe/Berlin`.
    pub timezone: Option<String>,
    /// `all` or `teams`.
    #[schema(value_type = Option<super::values::ConversationAccess>)]
    pub conversation_access: Option<String>,
    pub team_ids: Option<Vec<i64>>,
    /// Seasonal users: the first and last day of access.
    pub access_starts: Option<NaiveDate>,
    pub access_ends: Option<NaiveDate>,
}

/// Builds the admin module's input from the fields over `base` (the current
/// user on update); every problem is named with its field.
pub fn user_input(
    conn: &mut DbConn,
    base: Option<&User>,
    fields: &UserFields,
) -> ApiResult<UserInput> {
    let mut errors: Vec<(&str, String)> = Vec::new();
    let mut missing: Vec<(&str, String)> = Vec::new();
    let name = fields
        .name
        .clone()
        .or_else(|| base.map(|u| u.name.clone()))
        .unwrap_or_default();
    if name.trim().is_empty() || name.chars().count() > admin::MAX_NAME_CHARS {
        errors.push((
            "name",
            format!("is required (at most {} characters)", admin::MAX_NAME_CHARS),
        ));
    }
    let email = fields
        .email
        .clone()
        .or_else(|| base.map(|u| u.email.clone()))
        .unwrap_or_default();
    if !crate::forms::is_email(email.trim()) {
        errors.push(("email", "is not an email address".into()));
    }
    let type_key = fields
        .user_type
        .clone()
        .or_else(|| base.map(|u| u.user_type.key().to_string()))
        .unwrap_or_else(|| UserType::FullTime.key().into());
    let user_type = UserType::parse(&type_key);
    if user_type.is_none() {
        errors.push((
            "user_type",
            "must be full_time, collaborator or seasonal".into(),
        ));
    }
    let language = match &fields.language {
        Some(code) => {
            let lang = Lang::parse(code);
            if lang.is_none() {
                errors.push(("language", "must be en, es or de".into()));
            }
            lang
        }
        None => base
            .and_then(|u| u.language.as_deref())
            .and_then(Lang::parse),
    };
    let timezone = fields
        .timezone
        .clone()
        .or_else(|| base.and_then(|u| u.timezone.clone()));
    if timezone
        .as_deref()
        .is_some_and(|tz| tz.parse::<chrono_tz::Tz>().is_err())
    {
        errors.push(("timezone", "is not an IANA timezone".into()));
    }
    let role_id = match &fields.role {
        Some(key) => {
            let id: Option<i64> = roles::table
                .filter(roles::key.eq(key))
                .select(roles::id)
                .first(conn)
                .optional()?;
            if id.is_none() {
                missing.push(("role", "no such role".into()));
            }
            id
        }
        None => match base.and_then(|u| u.role_id) {
            Some(id) => Some(id),
            None => Some(Role::id_of(conn, policy::BuiltinRole::Agent)?),
        },
    };
    let access_key = fields
        .conversation_access
        .clone()
        .or_else(|| base.map(|u| u.conversation_access.key().to_string()))
        .unwrap_or_else(|| "all".into());
    let access = ConversationAccess::parse(&access_key);
    if access.is_none() {
        errors.push(("conversation_access", "must be all or teams".into()));
    }
    let team_ids = match &fields.team_ids {
        Some(ids) => ids.clone(),
        None => match base {
            Some(u) => Team::ids_of_user(conn, u.id)?,
            None => Vec::new(),
        },
    };
    let starts = fields.access_starts.or(base.and_then(|u| u.access_starts));
    let ends = fields.access_ends.or(base.and_then(|u| u.access_ends));
    if user_type == Some(UserType::Seasonal) {
        match (starts, ends) {
            (Some(s), Some(e)) if s <= e => {}
            (Some(_), Some(_)) => {
                errors.push(("access_ends", "must not be before access_starts".into()))
            }
            _ => errors.push((
                "access_starts",
                "seasonal users need access_starts and access_ends".into(),
            )),
        }
    }
    ApiError::check_fields(errors, missing, Vec::new())?;
    match (user_type, access) {
        (Some(user_type), Some(access)) => Ok(UserInput {
            user_type,
            name: name.trim().to_string(),
            email: email.trim().to_string(),
            language,
            timezone,
            role_id,
            team_ids,
            access,
            starts,
            ends,
        }),
        // Both were checked above: a missing one is a field error already.
        _ => Err(ApiError::invalid(Vec::new())),
    }
}

/// Loads a user the actor may manage (404 unknown, 403 not theirs to manage).
fn managed(
    conn: &mut DbConn,
    actor: &policy::Actor,
    id: i64,
) -> ApiResult<(User, policy::ManagedUser)> {
    let (user, target) = people::load_managed(conn, id)?.ok_or_else(ApiError::not_found)?;
    let (allowed, rule) = policy::can_manage_user(actor, &target);
    if !allowed {
        return Err(
            ApiError::forbidden("This token's user may not manage this user.")
                .with_details(serde_json::json!({ "rule": rule.key() })),
        );
    }
    Ok((user, target))
}

/// Invites a user, as Settings > Users > Add user does (an invitation email goes out).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = UserFields,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[!-~]([ -~]{0,253}[!-~])?$", description = "Retries with the same key and body get the first response")),
    responses((status = 201, body = UserOut, headers(("Location" = String)))))]
pub async fn create_user(
    api: ApiUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<UserFields>,
) -> ApiResult<HttpResponse> {
    api.ensure(Action::Use(Flag::UsersManage))?;
    let fields = body.into_inner();
    let audit = api.audit_actor(&req);
    let (actor, org) = (api.actor.clone(), api.org.clone());
    let public_url = state.config.public_url.clone();
    let now = state.clock.now();
    let request = serde_json::to_value(&fields)?;
    idempotency::run(&state, &api, &req, &request, move |conn| {
        let input = user_input(conn, None, &fields)?;
        let by = By {
            actor: &actor,
            audit: &audit,
        };
        let id = admin::add_user(conn, &by, &org, &input, &public_url, now)?;
        let user = User::find(conn, id)?.ok_or_else(ApiError::not_found)?;
        Ok(Created::new(
            user_out(conn, &user)?,
            format!("/api/v1/users/{id}"),
        ))
    })
    .await
}

#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = i64, Path)), request_body = UserFields,
    responses((status = 200, body = UserOut)))]
pub async fn update_user(
    api: ApiUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Json<UserFields>,
) -> ApiResult<HttpResponse> {
    api.ensure(Action::Use(Flag::UsersManage))?;
    let (id, fields) = (*id, body.into_inner());
    let audit = api.audit_actor(&req);
    let (actor, org) = (api.actor.clone(), api.org.clone());
    let now = state.clock.now();
    let out = super::db(&state, move |conn| {
        crate::db::write_transaction(conn, |conn| {
            let (user, _) = managed(conn, &actor, id)?;
            let input = user_input(conn, Some(&user), &fields)?;
            let by = By {
                actor: &actor,
                audit: &audit,
            };
            admin::update_user(conn, &by, &org, id, &input, now)?;
            let user = User::find(conn, id)?.ok_or_else(ApiError::not_found)?;
            user_out(conn, &user)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(out))
}

#[derive(Deserialize, Serialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct DeactivateInput {
    /// Who takes over their open conversations; without it they go back
    /// to their teams' unassigned queues.
    pub reassign_to: Option<i64>,
}

/// Deactivates: signed out everywhere, tokens revoked, conversations handed back.
#[utoipa::path(post, path = "/api/v1/users/{id}/deactivate", tag = "users",
    params(("id" = i64, Path)), request_body(content = Option<DeactivateInput>),
    responses((status = 200, body = UserOut)))]
pub async fn deactivate_user(
    api: ApiUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    api.ensure(Action::Use(Flag::UsersManage))?;
    let id = *id;
    // The body is optional; when sent it is a `DeactivateInput` object.
    let reassign_to = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        serde_json::from_slice::<Option<DeactivateInput>>(&body)
            .map_err(|e| {
                if e.is_data() {
                    ApiError::new(
                        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
                        "validation_failed",
                        &format!("The body does not have the expected shape: {e}"),
                    )
                } else {
                    ApiError::bad_request(
                        "invalid_json",
                        &format!("The body is not valid JSON: {e}"),
                    )
                }
            })?
            .and_then(|input| input.reassign_to)
    };
    let audit = api.audit_actor(&req);
    let actor = api.actor.clone();
    let now = state.clock.now();
    let out = super::db(&state, move |conn| {
        crate::db::write_transaction(conn, |conn| {
            let (user, target) = people::load_managed(conn, id)?.ok_or_else(ApiError::not_found)?;
            let by = By {
                actor: &actor,
                audit: &audit,
            };
            if user.active {
                admin::deactivate(conn, &by, &user, &target, reassign_to, now)?;
            } else {
                // Already done: the answer says whether it was theirs to do.
                managed(conn, &actor, id)?;
            }
            let user = User::find(conn, id)?.ok_or_else(ApiError::not_found)?;
            user_out(conn, &user)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(post, path = "/api/v1/users/{id}/reactivate", tag = "users",
    params(("id" = i64, Path)), responses((status = 200, body = UserOut)))]
pub async fn reactivate_user(
    api: ApiUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    api.ensure(Action::Use(Flag::UsersManage))?;
    let id = *id;
    let audit = api.audit_actor(&req);
    let (actor, org) = (api.actor.clone(), api.org.clone());
    let now = state.clock.now();
    let out = super::db(&state, move |conn| {
        crate::db::write_transaction(conn, |conn| {
            let (user, target) = managed(conn, &actor, id)?;
            if !user.active {
                let by = By {
                    actor: &actor,
                    audit: &audit,
                };
                admin::reactivate(conn, &by, &org, &user, &target, now)?;
            }
            let user = User::find(conn, id)?.ok_or_else(ApiError::not_found)?;
            user_out(conn, &user)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(out))
}

#[derive(Serialize, ToSchema)]
pub struct TeamOut {
    pub id: i64,
    pub name: String,
    pub member_ids: Vec<i64>,
    pub created_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct TeamList {
    pub data: Vec<TeamOut>,
}

fn team_out(conn: &mut DbConn, team: Team) -> ApiResult<TeamOut> {
    Ok(TeamOut {
        member_ids: crate::models::team::members(conn, team.id)?
            .into_iter()
            .map(|(id, ..)| id)
            .collect(),
        id: team.id,
        name: team.name,
        created_at: time(team.created_at),
    })
}

#[utoipa::path(get, path = "/api/v1/teams", tag = "users", responses((status = 200, body = TeamList)))]
pub async fn teams(api: ApiUser, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    api.ensure(Action::Use(Flag::UsersView))?;
    let list = super::db(&state, move |conn| {
        let data = Team::all(conn)?
            .into_iter()
            .map(|t| team_out(conn, t))
            .collect::<ApiResult<Vec<_>>>()?;
        Ok(TeamList { data })
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

#[utoipa::path(get, path = "/api/v1/teams/{id}", tag = "users",
    params(("id" = i64, Path)), responses((status = 200, body = TeamOut)))]
pub async fn team(
    api: ApiUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    api.ensure(Action::Use(Flag::UsersView))?;
    let id = *id;
    let out = super::db(&state, move |conn| {
        let team = Team::find(conn, id)?.ok_or_else(ApiError::not_found)?;
        team_out(conn, team)
    })
    .await?;
    Ok(HttpResponse::Ok().json(out))
}
