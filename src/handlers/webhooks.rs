//! Settings > Webhooks (admins): subscribe URLs to events, see each
//! webhook's delivery log, send a test event, retry a failed delivery.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::auth::CurrentUser;
use crate::db::write_transaction;
use crate::error::{AppError, AppResult};
use crate::forms::FieldErrors;
use crate::models::webhook::{self, EVENTS, Webhook};
use crate::pages::{Ctx, format_datetime, html_with_status};
use crate::policy::Flag;
use crate::services::{By, Refusal, integrations};
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

    fn input(&self) -> (String, Vec<String>, bool) {
        (self.url.clone(), self.events.clone(), self.active)
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
    events: &'static [&'static str],
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
            events: &EVENTS,
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

/// Checks the form (the target's addresses too, outside any transaction)
/// and runs the webhook write; field problems come back for the form.
async fn write_hook<T, F>(
    state: &AppState,
    current: &CurrentUser,
    req: &HttpRequest,
    form: &HookForm,
    work: F,
) -> AppResult<Result<T, crate::services::Fields>>
where
    T: Send + 'static,
    F: FnOnce(&mut crate::db::DbConn, &By, &integrations::HookInput) -> Result<T, Refusal>
        + Send
        + 'static,
{
    let (url, events, active) = form.input();
    let allow_private = state.config.webhook_allow_private;
    let (checked_url, checked_events) = (url.clone(), events.clone());
    let problems = web::block(move || {
        let events: Vec<&str> = checked_events.iter().map(String::as_str).collect();
        let input = integrations::HookInput {
            url: &checked_url,
            events: &events,
            active,
        };
        integrations::check_target(&input, allow_private)
    })
    .await?;
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    let who = current.caller(state, req);
    crate::web::write(state, move |conn| {
        let by = who.by();
        let events: Vec<&str> = events.iter().map(String::as_str).collect();
        let input = integrations::HookInput {
            url: &url,
            events: &events,
            active,
        };
        work(conn, &by, &input)
    })
    .await
}

pub async fn create(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::SettingsIntegrations)?;
    let form = HookForm::read(&body);
    let now = state.clock.now();
    let written = write_hook(&state, &current, &req, &form, move |conn, by, input| {
        integrations::create_webhook(conn, by, input, now)
    })
    .await?;
    match written {
        Ok(id) => Ok(redirect(&format!("/settings/webhooks/{id}?notice=created"))),
        Err(fields) => {
            let errors = fields.messages(current.tr);
            list_page(&current, &state, form, errors, None).await
        }
    }
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
    events: &'static [&'static str],
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
            events: &EVENTS,
            deliveries: log
                .into_iter()
                .map(|d| DeliveryRow {
                    id: d.id,
                    next_attempt: (d.state == "pending")
                        .then(|| format_datetime(d.next_attempt_at, current.tz, current.tr)),
                    event: d.event,
                    state: d.state,
                    attempts: d.attempts,
                    response_status: d.response_status,
                    error: d.last_error.unwrap_or_default(),
                    created: format_datetime(d.created_at, current.tz, current.tr),
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
    let now = state.clock.now();
    let written = write_hook(&state, &current, &req, &form, move |conn, by, input| {
        integrations::update_webhook(conn, by, id, input, now)
    })
    .await?;
    match written {
        Ok(()) => Ok(redirect(&format!("/settings/webhooks/{id}?notice=saved"))),
        Err(fields) => {
            let errors = fields.messages(current.tr);
            hook_page(&current, &state, id, Some(form), errors, None).await
        }
    }
}

pub async fn delete(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let (id, now) = (*id, state.clock.now());
    let who = current.caller(&state, &req);
    state
        .db(move |conn| {
            let by = who.by();
            Ok(write_transaction(conn, |conn| {
                integrations::delete_webhook(conn, &by, id, now)
            })?)
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
    let (id, now) = (*id, state.clock.now());
    let (actor, sent_by) = (current.actor.clone(), current.user.email.clone());
    state
        .db(move |conn| {
            Ok(write_transaction(conn, |conn| {
                integrations::test_webhook(conn, &actor, id, &sent_by, now)
            })?)
        })
        .await?;
    Ok(redirect(&format!("/settings/webhooks/{id}?notice=tested")))
}

pub async fn retry(
    current: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
) -> AppResult<HttpResponse> {
    let ((id, delivery), now) = (path.into_inner(), state.clock.now());
    let actor = current.actor.clone();
    state
        .db(move |conn| {
            Ok(write_transaction(conn, |conn| {
                integrations::retry_delivery(conn, &actor, id, delivery, now)
            })?)
        })
        .await?;
    Ok(redirect(&format!("/settings/webhooks/{id}?notice=retried")))
}
