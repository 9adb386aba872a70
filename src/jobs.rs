//! Background work every node runs: delivering the outbox, closing
//! seasonal access windows, ending expired grants and reopening snoozed
//! conversations. Each step is safe with several nodes at once.

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;

use crate::db::write_transaction;
use crate::error::AppResult;
use crate::mail::Mailer;
use crate::models::org::OrgSettings;
use crate::models::user::User;
use crate::models::{attachment, outbox, task, webhook};
use crate::notify;
use crate::state::AppState;

/// What one round did, for logs and tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Round {
    pub sent: usize,
    pub failed: usize,
    pub windows_closed: usize,
    /// Grants whose last day had passed.
    pub grants_ended: usize,
    /// Snoozed conversations whose time came.
    pub reopened: usize,
    /// Conversations deleted after their time in Trash or Spam.
    pub purged: usize,
    /// Assignees told that a task's due date came.
    pub tasks_due: usize,
    /// People reminded of a question past its due time.
    pub requests_reminded: usize,
    /// Webhook deliveries answered with 2xx, and attempts that failed.
    pub webhooks_delivered: usize,
    pub webhooks_failed: usize,
}

/// Mails claimed at once; a round takes batches until none is due or
/// `MAX_PER_ROUND` were handled, so the other jobs are not held up.
const BATCH: i64 = 50;
const MAX_PER_ROUND: usize = 1000;

/// Delivers due mail, batch after batch.
pub async fn deliver_outbox(state: &AppState, mailer: &Mailer) -> AppResult<(usize, usize)> {
    let (mut sent, mut failed) = (0, 0);
    while sent + failed < MAX_PER_ROUND {
        let (batch_sent, batch_failed) = deliver_batch(state, mailer).await?;
        if batch_sent + batch_failed == 0 {
            break;
        }
        sent += batch_sent;
        failed += batch_failed;
    }
    Ok((sent, failed))
}

async fn deliver_batch(state: &AppState, mailer: &Mailer) -> AppResult<(usize, usize)> {
    let now = state.clock.now();
    // The batch and the files it carries, in two queries.
    let (due, mut files) = state
        .db(move |conn| {
            let due = outbox::claim_due(conn, now, BATCH)?;
            let ids: Vec<i64> = due.iter().map(|m| m.id).collect();
            Ok((due, attachment::of_mails(conn, &ids)?))
        })
        .await?;
    let (mut sent, mut failed) = (0, 0);
    for mail in due {
        let (own, rest): (Vec<_>, Vec<_>) = files.into_iter().partition(|(id, _)| *id == mail.id);
        files = rest;
        let own: Vec<_> = own.into_iter().map(|(_, file)| file).collect();
        let result = mailer.send(&state.config.mail_from, &mail, &own).await;
        let now = state.clock.now();
        match result {
            Ok(()) => {
                sent += 1;
                state
                    .db(move |conn| Ok(outbox::mark_sent(conn, mail.id, now)?))
                    .await?;
            }
            Err(error) => {
                failed += 1;
                tracing::warn!(mail_id = mail.id, error = %error.message, permanent = error.permanent, "mail not delivered");
                state
                    .db(move |conn| {
                        Ok(outbox::mark_failed(
                            conn,
                            &mail,
                            &error.message,
                            error.permanent,
                            now,
                        )?)
                    })
                    .await?;
            }
        }
    }
    Ok((sent, failed))
}

/// Tells each assignee once when a task's due date has come in their own
/// timezone (in-app, and by email per their settings).
async fn tell_due_tasks(state: &AppState) -> AppResult<usize> {
    let now = state.clock.now();
    let config = state.config.clone();
    state
        .db(move |conn| {
            let Some(org) = OrgSettings::find(conn)? else {
                return Ok(0);
            };
            // Timezones run up to 14 hours ahead of UTC.
            let latest = (now + chrono::Duration::hours(14)).date();
            let mut told = 0;
            for task in task::due_untold(conn, latest)? {
                let Some(assignee) = User::find(conn, task.assignee_id)? else {
                    continue;
                };
                let today = now.and_utc().with_timezone(&assignee.tz(&org)).date_naive();
                if task.due_on.is_none_or(|due| due > today) {
                    continue;
                }
                write_transaction(conn, |conn| {
                    // Another node may have told them already.
                    if task::mark_due_told(conn, task.id, now)? {
                        let from = notify::Sender {
                            org: &org,
                            config: &config,
                            actor_id: None,
                            actor_name: "Confer",
                            now,
                        };
                        notify::tell_task(conn, &from, assignee.id, notify::TaskKind::Due, &task)?;
                        told += 1;
                    }
                    Ok::<_, diesel::result::Error>(())
                })?;
            }
            Ok(told)
        })
        .await
}

pub async fn run_once(state: &AppState, mailer: &Mailer) -> AppResult<Round> {
    let now = state.clock.now();
    let windows_closed = state
        .db(move |conn| Ok(crate::services::users::close_ended_windows(conn, now)?))
        .await?;
    let grants_ended = state
        .db(move |conn| Ok(crate::services::grants::end_expired(conn, now)?))
        .await?;
    let reopened = state
        .db(move |conn| Ok(crate::services::conversations::wake_snoozed(conn, now)?))
        .await?;
    let purged = state
        .db(move |conn| {
            Ok(write_transaction(conn, |conn| {
                crate::services::conversations::purge_moved(conn, now)
            })?)
        })
        .await?;
    let tasks_due = tell_due_tasks(state).await?;
    let config = state.config.clone();
    let requests_reminded = state
        .db(move |conn| {
            let Some(org) = OrgSettings::find(conn)? else {
                return Ok(0);
            };
            Ok(crate::services::requests::remind_overdue(
                conn, &org, &config, now,
            )?)
        })
        .await?;
    let (sent, failed) = deliver_outbox(state, mailer).await?;
    let (webhooks_delivered, webhooks_failed) = deliver_webhooks(state).await?;
    Ok(Round {
        webhooks_delivered,
        webhooks_failed,
        sent,
        failed,
        windows_closed,
        grants_ended,
        reopened,
        purged,
        tasks_due,
        requests_reminded,
    })
}

/// Posts due webhook deliveries, batch after batch: the payload as JSON,
/// signed (`Confer-Signature`), with ten seconds to answer, only to public
/// addresses (`net::PublicOnly`) and never following a redirect. A 2xx is
/// delivered; anything else is retried with backoff, then given up.
pub async fn deliver_webhooks(state: &AppState) -> AppResult<(usize, usize)> {
    let (mut delivered, mut failed) = (0, 0);
    while delivered + failed < MAX_PER_ROUND {
        let now = state.clock.now();
        let due = state
            .db(move |conn| Ok(webhook::claim_due(conn, now, BATCH)?))
            .await?;
        if due.is_empty() {
            break;
        }
        for (delivery, hook) in due {
            let timestamp = state.clock.now().and_utc().timestamp();
            let signature = webhook::signature(&hook.secret, timestamp, &delivery.payload);
            let (url, body, event, id) = (
                hook.url.clone(),
                delivery.payload.clone(),
                delivery.event.clone(),
                delivery.id,
            );
            let allow_private = state.config.webhook_allow_private;
            let outcome = web::block(move || {
                let config = ureq::Agent::config_builder()
                    .timeout_global(Some(Duration::from_secs(10)))
                    .http_status_as_error(false)
                    .max_redirects(0)
                    .build();
                let agent = ureq::Agent::with_parts(
                    config,
                    ureq::unversioned::transport::DefaultConnector::new(),
                    crate::net::PublicOnly { allow_private },
                );
                agent
                    .post(&url)
                    .header("Content-Type", "application/json")
                    .header("User-Agent", "Confer-Webhooks/1")
                    .header("Confer-Event", &event)
                    .header("Confer-Delivery", id.to_string())
                    .header("Confer-Signature", &signature)
                    .send(body.as_bytes())
                    .map(|response| response.status().as_u16())
            })
            .await?;
            let (status, error) = match outcome {
                Ok(code) if (200..300).contains(&code) => (Some(code), None),
                Ok(code) => (Some(code), Some(format!("answered HTTP {code}"))),
                Err(e) => (None, Some(e.to_string())),
            };
            if error.is_some() {
                failed += 1;
                tracing::warn!(delivery = id, error = ?error, "webhook not delivered");
            } else {
                delivered += 1;
            }
            let now = state.clock.now();
            state
                .db(move |conn| {
                    Ok(webhook::record_attempt(
                        conn,
                        &delivery,
                        status,
                        error.as_deref(),
                        now,
                    )?)
                })
                .await?;
        }
    }
    Ok((delivered, failed))
}

/// How often the worker refreshes SQLite's planner statistics.
const OPTIMIZE_EVERY: Duration = Duration::from_secs(3600);

/// Runs `run_once` every few seconds until the server stops, and
/// `db::optimize` every hour.
pub fn spawn(state: web::Data<AppState>, mailer: Arc<Mailer>, every: Duration) {
    actix_web::rt::spawn(async move {
        let mut interval = actix_web::rt::time::interval(every);
        let mut optimized = std::time::Instant::now();
        loop {
            interval.tick().await;
            if optimized.elapsed() >= OPTIMIZE_EVERY {
                optimized = std::time::Instant::now();
                if let Err(e) = state.db(|conn| Ok(crate::db::optimize(conn)?)).await {
                    tracing::error!(error = %e, "PRAGMA optimize failed");
                }
            }
            match run_once(&state, &mailer).await {
                Ok(round) if round != Round::default() => {
                    tracing::info!(?round, "background round")
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "background round failed"),
            }
        }
    });
}
