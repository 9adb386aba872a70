//! Webhooks: URLs subscribed to events, and the persistent queue of
//! deliveries (which is also each webhook's delivery log). Events are
//! queued in the transaction of the change they describe, so a delivery is
//! never announced for a change that rolled back.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::db::DbConn;
use crate::db::schema::{webhook_deliveries, webhooks};

pub const EVENTS: [&str; 9] = [
    "conversation.created",
    "conversation.moved",
    "message.added",
    "note.added",
    "assignment.changed",
    "user.deactivated",
    "request.created",
    "request.answered",
    "request.declined",
];

/// Attempts before a delivery is given up (about a day of backoff).
pub const MAX_ATTEMPTS: i32 = 8;
/// How long a claimed delivery is left to its worker.
const LEASE_SECONDS: i64 = 60;

#[derive(Queryable, Clone, Debug)]
pub struct Webhook {
    pub id: i64,
    pub url: String,
    pub secret: String,
    pub events: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
}

impl Webhook {
    pub fn event_list(&self) -> Vec<&str> {
        self.events.split_whitespace().collect()
    }
}

#[derive(Queryable, Clone, Debug)]
pub struct Delivery {
    pub id: i64,
    pub webhook_id: i64,
    pub event: String,
    pub payload: String,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub response_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
}

pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Webhook>> {
    webhooks::table.order(webhooks::id).load(conn)
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<Webhook>> {
    webhooks::table.find(id).first(conn).optional()
}

pub fn create(
    conn: &mut DbConn,
    url: &str,
    events: &[&str],
    secret: &str,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    diesel::insert_into(webhooks::table)
        .values((
            webhooks::url.eq(url),
            webhooks::secret.eq(secret),
            webhooks::events.eq(events.join(" ")),
            webhooks::active.eq(true),
            webhooks::created_at.eq(now),
        ))
        .returning(webhooks::id)
        .get_result(conn)
}

pub fn update(
    conn: &mut DbConn,
    id: i64,
    url: &str,
    events: &[&str],
    active: bool,
) -> QueryResult<usize> {
    diesel::update(webhooks::table.find(id))
        .set((
            webhooks::url.eq(url),
            webhooks::events.eq(events.join(" ")),
            webhooks::active.eq(active),
        ))
        .execute(conn)
}

pub fn delete(conn: &mut DbConn, id: i64) -> QueryResult<usize> {
    diesel::delete(webhooks::table.find(id)).execute(conn)
}

/// Queues `event` for every active webhook subscribed to it.
pub fn enqueue(conn: &mut DbConn, event: &str, data: Value, now: NaiveDateTime) -> QueryResult<()> {
    let hooks: Vec<Webhook> = webhooks::table
        .filter(webhooks::active.eq(true))
        .load(conn)?;
    for hook in hooks.iter().filter(|h| h.event_list().contains(&event)) {
        queue(conn, hook.id, event, &data, now)?;
    }
    Ok(())
}

/// Queues one delivery to one webhook (also the "Send a test event" button).
pub fn queue(
    conn: &mut DbConn,
    webhook_id: i64,
    event: &str,
    data: &Value,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    let id: i64 = diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::webhook_id.eq(webhook_id),
            webhook_deliveries::event.eq(event),
            webhook_deliveries::payload.eq(""),
            webhook_deliveries::next_attempt_at.eq(now),
            webhook_deliveries::created_at.eq(now),
        ))
        .returning(webhook_deliveries::id)
        .get_result(conn)?;
    // The payload names its delivery, so receivers can drop duplicates.
    let payload = json!({
        "id": id,
        "event": event,
        "created_at": now.and_utc(),
        "data": data,
    });
    diesel::update(webhook_deliveries::table.find(id))
        .set(webhook_deliveries::payload.eq(payload.to_string()))
        .execute(conn)?;
    Ok(id)
}

/// Claims up to `limit` due deliveries; each goes to exactly one worker
/// (the conditional update takes a row only if nobody holds it).
pub fn claim_due(
    conn: &mut DbConn,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<(Delivery, Webhook)>> {
    let due: Vec<i64> = webhook_deliveries::table
        .filter(webhook_deliveries::state.eq("pending"))
        .filter(webhook_deliveries::next_attempt_at.le(now))
        .filter(
            webhook_deliveries::locked_until
                .is_null()
                .or(webhook_deliveries::locked_until.lt(now)),
        )
        .order(webhook_deliveries::id)
        .limit(limit)
        .select(webhook_deliveries::id)
        .load(conn)?;
    let mut claimed = Vec::new();
    for id in due {
        let taken = diesel::update(
            webhook_deliveries::table
                .find(id)
                .filter(webhook_deliveries::state.eq("pending"))
                .filter(
                    webhook_deliveries::locked_until
                        .is_null()
                        .or(webhook_deliveries::locked_until.lt(now)),
                ),
        )
        .set(webhook_deliveries::locked_until.eq(now + Duration::seconds(LEASE_SECONDS)))
        .execute(conn)?;
        if taken == 1 {
            claimed.push(id);
        }
    }
    webhook_deliveries::table
        .inner_join(webhooks::table)
        .filter(webhook_deliveries::id.eq_any(claimed))
        .order(webhook_deliveries::id)
        .select((webhook_deliveries::all_columns, webhooks::all_columns))
        .load(conn)
}

/// Waits between attempts: 1, 2, 4, … minutes, at most six hours.
pub fn backoff(attempts: i32) -> Duration {
    Duration::minutes((1i64 << attempts.clamp(0, 9)).min(360))
}

/// Records an attempt: delivered on a 2xx, else retried later or given up.
pub fn record_attempt(
    conn: &mut DbConn,
    delivery: &Delivery,
    status: Option<u16>,
    error: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let attempts = delivery.attempts + 1;
    let delivered = status.is_some_and(|s| (200..300).contains(&s));
    let state = if delivered {
        "delivered"
    } else if attempts >= MAX_ATTEMPTS {
        "failed"
    } else {
        "pending"
    };
    diesel::update(webhook_deliveries::table.find(delivery.id))
        .set((
            webhook_deliveries::state.eq(state),
            webhook_deliveries::attempts.eq(attempts),
            webhook_deliveries::response_status.eq(status.map(i32::from)),
            webhook_deliveries::last_error.eq(error),
            webhook_deliveries::next_attempt_at.eq(now + backoff(attempts)),
            webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
            webhook_deliveries::delivered_at.eq(delivered.then_some(now)),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The delivery log of one webhook, newest first.
pub fn log(conn: &mut DbConn, webhook_id: i64, limit: i64) -> QueryResult<Vec<Delivery>> {
    webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(webhook_id))
        .order(webhook_deliveries::id.desc())
        .limit(limit)
        .load(conn)
}

/// Makes a delivery due again now (an admin's "Retry").
pub fn retry_now(
    conn: &mut DbConn,
    webhook_id: i64,
    id: i64,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        webhook_deliveries::table
            .find(id)
            .filter(webhook_deliveries::webhook_id.eq(webhook_id))
            .filter(webhook_deliveries::state.ne("delivered")),
    )
    .set((
        webhook_deliveries::state.eq("pending"),
        webhook_deliveries::next_attempt_at.eq(now),
    ))
    .execute(conn)
}

/// `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, keyed with the
/// webhook's secret — the `Confer-Signature` header.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    use hmac::{Hmac, Mac};
    // HMAC takes keys of any length: this never fails.
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(format!("{timestamp}.{body}").as_bytes());
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}
