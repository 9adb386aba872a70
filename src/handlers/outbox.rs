//! Settings > Outbox: every outgoing mail with its delivery state; failed
//! ones can be retried. Shows where mail goes (SMTP or files).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::db::write_transaction;
use crate::error::AppResult;
use crate::models::outbox;
use crate::pages::{Ctx, format_datetime, html_with_status};
use crate::policy::Flag;
use crate::services::integrations;
use crate::state::AppState;

const STATUSES: [&str; 4] = ["queued", "failing", "failed", "sent"];

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct OutboxQuery {
    pub status: String,
    pub recipient: String,
    pub notice: String,
}

pub struct Row {
    pub id: i64,
    pub when: String,
    pub kind: &'static str,
    pub recipient: String,
    pub subject: String,
    pub status: String,
    pub status_label: &'static str,
    pub attempts: i32,
    pub error: String,
    pub retry: bool,
}

#[derive(Template)]
#[template(path = "pages/outbox.html")]
struct OutboxPage {
    ctx: Ctx,
    query: OutboxQuery,
    destination: String,
    counts: Vec<(&'static str, i64)>,
    rows: Vec<Row>,
    statuses: Vec<(&'static str, &'static str)>,
    retried: bool,
}

impl OutboxPage {
    fn is(&self, value: &str, option: &str) -> bool {
        value == option
    }
}

pub async fn list(
    current: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<OutboxQuery>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::SettingsOrg)?;
    let query = query.into_inner();
    let status = Some(query.status.clone()).filter(|s| STATUSES.contains(&s.as_str()));
    let recipient = query.recipient.clone();
    let (mails, counts) = state
        .db(move |conn| {
            Ok((
                outbox::recent(conn, status.as_deref(), Some(&recipient), 200)?,
                outbox::status_counts(conn)?,
            ))
        })
        .await?;
    let t = current.tr;
    let destination = super::email_settings::destination(&current, &state);
    let rows = mails
        .into_iter()
        .map(|m| Row {
            id: m.id,
            when: format_datetime(m.created_at, current.tz, current.tr),
            retry: m.status == "failed" || m.status == "failing",
            status_label: t.get(&format!("outbox.status.{}", m.status)),
            kind: t.get(&format!("outbox.kind.{}", m.kind)),
            recipient: m.recipient,
            subject: m.subject,
            status: m.status,
            attempts: m.attempts,
            error: m.last_error.unwrap_or_default(),
        })
        .collect();
    html_with_status(
        &OutboxPage {
            ctx: Ctx::for_user(&current, "outbox"),
            retried: query.notice == "retried",
            query,
            destination,
            counts: counts
                .into_iter()
                .map(|(status, n)| (t.get(&format!("outbox.status.{status}")), n))
                .collect(),
            rows,
            statuses: STATUSES
                .iter()
                .map(|s| (*s, t.get(&format!("outbox.status.{s}"))))
                .collect(),
        },
        StatusCode::OK,
    )
}

pub async fn retry(
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
                integrations::retry_mail(conn, &by, id, now)
            })?)
        })
        .await?;
    Ok(crate::web::redirect("/settings/outbox?notice=retried"))
}
