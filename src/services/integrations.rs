//! Webhooks and the outbox as admins run them: subscribe a URL to events,
//! change or delete it, send a test event, retry a delivery or a mail. Each
//! asks `policy` (`settings.integrations`, the outbox `settings.org`) and
//! writes its audit entry in the caller's transaction. A webhook's target is
//! resolved by `check_target` before the transaction (DNS must not hold the
//! write lock); delivery checks every address again.

use chrono::NaiveDateTime;
use serde_json::json;

use super::{By, Fields, Problem, Refusal};
use crate::db::DbConn;
use crate::models::audit::{self, AuditActor, Event};
use crate::models::outbox;
use crate::models::webhook::{self, EVENTS};
use crate::net::TargetRefusal;
use crate::policy::{self, Action, Actor, Flag};

pub const MAX_URL_CHARS: usize = 2000;

/// A webhook as the form describes it (fields `url`, `events`).
pub struct HookInput<'a> {
    pub url: &'a str,
    pub events: &'a [&'a str],
    pub active: bool,
}

/// The URL's and the events' problems, without the network.
pub fn problems(input: &HookInput) -> Fields {
    let mut fields = Fields::default();
    let url = input.url;
    let valid_url = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= MAX_URL_CHARS
        && !url.contains(char::is_whitespace)
        && url
            .split("://")
            .nth(1)
            .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
    if !valid_url {
        fields.add(
            "url",
            Problem::Rule {
                key: "webhooks.error.url",
                english: "an http:// or https:// address",
            },
        );
    }
    if input.events.is_empty() || input.events.iter().any(|e| !EVENTS.contains(e)) {
        fields.add(
            "events",
            Problem::Rule {
                key: "webhooks.error.events",
                english: "choose at least one event",
            },
        );
    }
    fields
}

/// Every problem of `input`, the target's addresses included: loopback,
/// link-local and private ones are refused unless allowed. Resolves the
/// host name, so call it outside any transaction.
pub fn check_target(input: &HookInput, allow_private: bool) -> Fields {
    let mut fields = problems(input);
    if !fields.is_empty() {
        return fields;
    }
    let checked = crate::net::host_and_port(input.url)
        .ok_or(TargetRefusal::Unresolved)
        .and_then(|(host, port)| crate::net::check_target(&host, port, allow_private));
    match checked {
        Ok(_) => {}
        Err(TargetRefusal::Unresolved) => fields.add(
            "url",
            Problem::Rule {
                key: "webhooks.error.unresolved",
                english: "the host name does not resolve",
            },
        ),
        Err(TargetRefusal::Private(ip)) => fields.add("url", Problem::PrivateAddress(ip)),
    }
    fields
}

fn allowed(actor: &Actor) -> Result<(), Refusal> {
    Ok(policy::ensure(
        actor,
        Action::Use(Flag::SettingsIntegrations),
    )?)
}

fn record(
    conn: &mut DbConn,
    audit: &AuditActor,
    (action, id, url): (&str, i64, &str),
    after: Option<serde_json::Value>,
    now: NaiveDateTime,
) -> Result<(), Refusal> {
    audit::record(
        conn,
        audit,
        Event {
            action,
            target_type: "webhook",
            target_id: Some(id),
            target_label: url,
            before: None,
            after,
        },
        now,
    )?;
    Ok(())
}

/// Subscribes a URL (checked by `check_target`) with a new signing secret.
pub fn create_webhook(
    conn: &mut DbConn,
    by: &By,
    input: &HookInput,
    now: NaiveDateTime,
) -> Result<i64, Refusal> {
    allowed(by.actor)?;
    super::check(problems(input))?;
    let secret = format!("whsec_{}", crate::crypto::random_token());
    let id = webhook::create(conn, input.url, input.events, &secret, now)?;
    let after = json!({ "events": input.events });
    record(
        conn,
        by.audit,
        ("webhook.created", id, input.url),
        Some(after),
        now,
    )?;
    Ok(id)
}

pub fn update_webhook(
    conn: &mut DbConn,
    by: &By,
    id: i64,
    input: &HookInput,
    now: NaiveDateTime,
) -> Result<(), Refusal> {
    allowed(by.actor)?;
    super::check(problems(input))?;
    if webhook::update(conn, id, input.url, input.events, input.active)? == 0 {
        return Err(Refusal::NotFound);
    }
    let after = json!({ "events": input.events, "active": input.active });
    record(
        conn,
        by.audit,
        ("webhook.updated", id, input.url),
        Some(after),
        now,
    )
}

pub fn delete_webhook(
    conn: &mut DbConn,
    by: &By,
    id: i64,
    now: NaiveDateTime,
) -> Result<(), Refusal> {
    allowed(by.actor)?;
    let hook = webhook::find(conn, id)?.ok_or(Refusal::NotFound)?;
    webhook::delete(conn, id)?;
    record(
        conn,
        by.audit,
        ("webhook.deleted", id, &hook.url),
        None,
        now,
    )
}

/// Queues a `webhook.test` event for this webhook alone.
pub fn test_webhook(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    sent_by: &str,
    now: NaiveDateTime,
) -> Result<(), Refusal> {
    allowed(actor)?;
    webhook::find(conn, id)?.ok_or(Refusal::NotFound)?;
    webhook::queue(
        conn,
        id,
        "webhook.test",
        &json!({ "sent_by": sent_by }),
        now,
    )?;
    Ok(())
}

/// Delivers a failed or waiting delivery at the next round.
pub fn retry_delivery(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    delivery: i64,
    now: NaiveDateTime,
) -> Result<(), Refusal> {
    allowed(actor)?;
    match webhook::retry_now(conn, id, delivery, now)? {
        0 => Err(Refusal::NotFound),
        _ => Ok(()),
    }
}

/// Sends a mail of the outbox again at the next round (`settings.org`).
pub fn retry_mail(conn: &mut DbConn, by: &By, id: i64, now: NaiveDateTime) -> Result<(), Refusal> {
    policy::ensure(by.actor, Action::Use(Flag::SettingsOrg))?;
    let mail = outbox::find(conn, id)?.ok_or(Refusal::NotFound)?;
    outbox::retry_now(conn, id, now)?;
    audit::record(
        conn,
        by.audit,
        Event {
            action: "outbox.retried",
            target_type: "mail",
            target_id: Some(id),
            target_label: &mail.recipient,
            before: Some(json!({ "status": mail.status, "last_error": mail.last_error })),
            after: Some(json!({ "status": "queued" })),
        },
        now,
    )?;
    Ok(())
}
