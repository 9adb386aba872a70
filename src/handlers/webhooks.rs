//! Settings > Webhooks (admins): subscribe URLs to events, see each
//! webhook's delivery log, send a test event, retry a failed delivery.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde_json::json;

use crate::auth::CurrentUser;
use crate::db::write_transaction;
use crate::error::{AppError, AppResult};
use crate::forms::FieldErrors;
use crate::models::audit::{self, Event};
use crate::models::webhook::{self, EVENTS, Webhook};
use crate::pages::{Ctx, format_datetime, html_with_status};
use crate::policy::Flag;
use crate::state::AppState;
use crate::urlencoded::form_pairs;
use crate::web::NoticeQuery;
use crate::web::redirect;

/// The form: a URL, the events ticked, and whether it is on.
#[derive(Clone, Default)]
pub struct HookForm {
    pub url: String,
    pub events: Vec<String>,
    pub active: bool,
}

impl HookForm {
    fn read(body: &[u8]) -> Self {
        let pairs = form_pairs(body);
        let value = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default()
        };
        Self {
            url: value("url"),
            events: pairs
                .iter()
                .filter(|(k, v)| k == "events" && EVENTS.contains(&v.as_str()))
                .map(|(_, v)| v.clone())
                .collect(),
            active: value("active") == "on",
        }
    }

    fn from(hook: &Webhook) -> Self {
        Self {
            url: hook.url.clone(),
            events: hook.event_list().iter().map(|e| e.to_string()).collect(),
            active: hook.active,
        }
    }

    pub fn has(&self, event: &&str) -> bool {
        self.events.iter().any(|e| e == event)
    }

    /// The form's checks, the target's addresses included (DNS, so async).
    async fn check(&self, current: &CurrentUser, state: &AppState) -> AppResult<FieldErrors> {
        let mut errors = self.check_fields(current);
        if errors.get("url").is_some() {
            return Ok(errors);
        }
        let allow_private = state.config.webhook_allow_private;
        let target = crate::net::host_and_port(&self.url);
        let checked = web::block(move || {
            let (host, port) = target.ok_or(crate::net::TargetRefusal::Unresolved)?;
            crate::net::check_target(&host, port, allow_private).map(|_| ())
        })
        .await?;
        let t = current.tr;
        match checked {
            Ok(()) => {}
            Err(crate::net::TargetRefusal::Unresolved) => {
                errors.add("url", t.get("webhooks.error.unresolved"))
            }
            Err(crate::net::TargetRefusal::Private(ip)) => errors.add(
                "url",
                t.fmt("webhooks.error.private", &[("address", &ip.to_string())]),
            ),
        }
        Ok(errors)
    }

    fn check_fields(&self, current: &CurrentUser) -> FieldErrors {
        let t = current.tr;
        let mut errors = FieldErrors::default();
        let valid_url = (self.url.starts_with("https://") || self.url.starts_with("http://"))
            && self.url.len() <= 2000
            && !self.url.contains(char::is_whitespace)
            && self
                .url
                .split("://")
                .nth(1)
                .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
        if !valid_url {
            errors.add("url", t.get("webhooks.error.url"));
        }
        if self.events.is_empty() {
            errors.add("events", t.get("webhooks.error.events"));
        }
        errors
    }

    fn event_refs(&self) -> Vec<&str> {
        self.events.iter().map(String::as_str).collect()
    }
}

pub struct HookRow {
    pub id: i64,
    pub url: String,
    pub events: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "pages/webhooks.html")]
struct ListPage {
    ctx: Ctx,
    hooks: Vec<HookRow>,
    form: HookForm,
    errors: FieldErrors,
    events: [&'static str; 5],
    notice: Option<&'static str>,
}

async fn list_page(
    current: &CurrentUser,
    state: &AppState,
    form: HookForm,
    errors: FieldErrors,
    notice: Option<&'static str>,
) -> AppResult<HttpResponse> {
    let hooks = state.db(|conn| Ok(webhook::all(conn)?)).await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    html_with_status(
        &ListPage {
            ctx: Ctx::for_user(current, "webhooks"),
            hooks: hooks
                .into_iter()
                .map(|h| HookRow {
                    id: h.id,
                    events: h.event_list().join(", "),
                    url: h.url,
                    active: h.active,
                })
                .collect(),
            form,
            errors,
            events: EVENTS,
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
    current.ensure(Flag::SettingsIntegrations)?;
    let notice = (query.notice() == "deleted").then_some("webhooks.notice.deleted");
    let form = HookForm {
        active: true,
        ..HookForm::default()
    };
    list_page(&current, &state, form, FieldErrors::default(), notice).await
}

fn record(
    conn: &mut crate::db::DbConn,
    actor: &crate::models::audit::AuditActor,
    action: &'static str,
    id: i64,
    url: &str,
    after: Option<serde_json::Value>,
    now: chrono::NaiveDateTime,
) -> diesel::QueryResult<()> {
    audit::record(
        conn,
        actor,
        Event {
            action,
            target_type: "webhook",
            target_id: Some(id),
            target_label: url,
            before: None,
            after,
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
    current.ensure(Flag::SettingsIntegrations)?;
    let form = HookForm::read(&body);
    let errors = form.check(&current, &state).await?;
    if !errors.is_empty() {
        return list_page(&current, &state, form, errors, None).await;
    }
    let (actor, now) = (current.audit_actor(&req), state.clock.now());
    let secret = format!("whsec_{}", crate::crypto::random_token());
    let id = state
        .db(move |conn| {
            write_transaction(conn, |conn| {
                let id = webhook::create(conn, &form.url, &form.event_refs(), &secret, now)?;
                record(
                    conn,
                    &actor,
                    "webhook.created",
                    id,
                    &form.url,
                    Some(json!({ "events": form.events })),
                    now,
                )?;
                Ok::<_, AppError>(id)
            })
        })
        .await?;
    Ok(redirect(&format!("/settings/webhooks/{id}?notice=created")))
}

pub struct DeliveryRow {
    pub id: i64,
    pub event: String,
    pub state: String,
    pub attempts: i32,
    pub response_status: Option<i32>,
    pub error: String,
    pub created: String,
    pub next_attempt: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/webhook.html")]
struct HookPage {
    ctx: Ctx,
    id: i64,
    secret: String,
    form: HookForm,
    errors: FieldErrors,
    events: [&'static str; 5],
    deliveries: Vec<DeliveryRow>,
    notice: Option<&'static str>,
}

async fn hook_page(
    current: &CurrentUser,
    state: &AppState,
    id: i64,
    form: Option<HookForm>,
    errors: FieldErrors,
    notice: Option<&'static str>,
) -> AppResult<HttpResponse> {
    let (hook, log) = state
        .db(move |conn| {
            let hook = webhook::find(conn, id)?.ok_or(AppError::NotFound)?;
            Ok((hook, webhook::log(conn, id, 100)?))
        })
        .await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    html_with_status(
        &HookPage {
            ctx: Ctx::for_user(current, "webhooks"),
            id,
            form: form.unwrap_or_else(|| HookForm::from(&hook)),
            secret: hook.secret,
            errors,
            events: EVENTS,
            deliveries: log
                .into_iter()
                .map(|d| DeliveryRow {
                    id: d.id,
                    next_attempt: (d.state == "pending")
                        .then(|| format_datetime(d.next_attempt_at, current.tz)),
                    event: d.event,
                    state: d.state,
                    attempts: d.attempts,
                    response_status: d.response_status,
                    error: d.last_error.unwrap_or_default(),
                    created: format_datetime(d.created_at, current.tz),
                })
                .collect(),
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
    current.ensure(Flag::SettingsIntegrations)?;
    let notice = match query.notice() {
        "created" => Some("webhooks.notice.created"),
        "saved" => Some("webhooks.notice.saved"),
        "tested" => Some("webhooks.notice.tested"),
        "retried" => Some("webhooks.notice.retried"),
        _ => None,
    };
    hook_page(&current, &state, *id, None, FieldErrors::default(), notice).await
}

pub async fn update(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::SettingsIntegrations)?;
    let id = *id;
    let form = HookForm::read(&body);
    let errors = form.check(&current, &state).await?;
    if !errors.is_empty() {
        return hook_page(&current, &state, id, Some(form), errors, None).await;
    }
    let (actor, now) = (current.audit_actor(&req), state.clock.now());
    state
        .db(move |conn| {
            write_transaction(conn, |conn| {
                if webhook::update(conn, id, &form.url, &form.event_refs(), form.active)? == 0 {
                    return Err(AppError::NotFound);
                }
                let after = json!({ "events": form.events, "active": form.active });
                record(
                    conn,
                    &actor,
                    "webhook.updated",
                    id,
                    &form.url,
                    Some(after),
                    now,
                )?;
                Ok(())
            })
        })
        .await?;
    Ok(redirect(&format!("/settings/webhooks/{id}?notice=saved")))
}

pub async fn delete(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::SettingsIntegrations)?;
    let (id, actor, now) = (*id, current.audit_actor(&req), state.clock.now());
    state
        .db(move |conn| {
            write_transaction(conn, |conn| {
                let hook = webhook::find(conn, id)?.ok_or(AppError::NotFound)?;
                webhook::delete(conn, id)?;
                record(conn, &actor, "webhook.deleted", id, &hook.url, None, now)?;
                Ok(())
            })
        })
        .await?;
    Ok(redirect("/settings/webhooks?notice=deleted"))
}

/// Queues a `webhook.test` event for this webhook alone.
pub async fn test(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::SettingsIntegrations)?;
    let (id, now) = (*id, state.clock.now());
    let by = current.user.email.clone();
    state
        .db(move |conn| {
            webhook::find(conn, id)?.ok_or(AppError::NotFound)?;
            webhook::queue(conn, id, "webhook.test", &json!({ "sent_by": by }), now)?;
            Ok(())
        })
        .await?;
    Ok(redirect(&format!("/settings/webhooks/{id}?notice=tested")))
}

pub async fn retry(
    current: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::SettingsIntegrations)?;
    let ((id, delivery), now) = (path.into_inner(), state.clock.now());
    let retried = state
        .db(move |conn| Ok(webhook::retry_now(conn, id, delivery, now)?))
        .await?;
    if retried == 0 {
        return Err(AppError::NotFound);
    }
    Ok(redirect(&format!("/settings/webhooks/{id}?notice=retried")))
}
