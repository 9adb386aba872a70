//! Deactivate and reactivate (with the confirmation page), resend or revoke a pending invitation; the user service asks the policy again and writes.

use super::*;

#[derive(Template)]
#[template(path = "pages/user_status.html")]
pub(super) struct StatusPage {
    pub(super) ctx: Ctx,
    pub(super) id: i64,
    pub(super) name: String,
    pub(super) deactivate: bool,
    pub(super) open_conversations: i64,
    pub(super) assignees: Vec<(i64, String)>,
    pub(super) error: Option<String>,
    pub(super) refused: Option<&'static str>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DeactivateForm {
    #[serde(default)]
    pub reassign_to: String,
}

pub(super) async fn status_page(
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
    let who = current.caller(&state, &req);
    let now = state.clock.now();
    let user = loaded.user.clone();
    let managed = loaded.managed.clone();
    let result = state
        .db(move |conn| {
            let by = who.by();
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
    let who = current.caller(&state, &req);
    let org = current.org.clone();
    let now = state.clock.now();
    let user = loaded.user.clone();
    let managed = loaded.managed.clone();
    let result = state
        .db(move |conn| {
            let by = who.by();
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

pub(super) async fn pending_target(
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
    let who = current.caller(&state, &req);
    let org = current.org.clone();
    let public_url = state.config.public_url.clone();
    let now = state.clock.now();
    let user_id = user.id;
    state
        .db(move |conn| {
            let by = who.by();
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
    let who = current.caller(&state, &req);
    let now = state.clock.now();
    state
        .db(move |conn| {
            let by = who.by();
            Ok(write_transaction(conn, |conn| {
                admin::revoke_invitation(conn, &by, &user, &managed, now)
            })?)
        })
        .await?;
    Ok(redirect("/settings/users?tab=pending&notice=revoked"))
}
