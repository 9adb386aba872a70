//! The outbox: every outgoing mail is a row, written in the same transaction
//! as the event that caused it. A worker claims due rows with a lease (so two
//! nodes never send the same mail), sends them, and records the outcome.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::outbox;

/// After this many failed attempts a mail is given up (status `failed`).
pub const MAX_ATTEMPTS: i32 = 12;
/// How long a claimed row is reserved for the node that claimed it.
pub const LEASE_SECONDS: i64 = 120;

#[derive(Queryable, Clone, Debug)]
pub struct OutboxMail {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub reply_to: Option<String>,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_error: Option<String>,
    pub claimed_until: Option<NaiveDateTime>,
    pub claim_token: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    /// Threading headers of replies to customers.
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references_header: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = outbox)]
struct NewMail<'a> {
    kind: &'a str,
    recipient: &'a str,
    subject: &'a str,
    body_text: &'a str,
    reply_to: Option<&'a str>,
    status: &'a str,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    created_at: NaiveDateTime,
    message_id: Option<&'a str>,
    in_reply_to: Option<&'a str>,
    references_header: Option<&'a str>,
}

/// A mail to queue.
#[derive(Default)]
pub struct Mail<'a> {
    pub kind: &'a str,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub body_text: &'a str,
    pub reply_to: Option<&'a str>,
    /// Threading: our Message-ID, the message answered, and the chain.
    pub message_id: Option<&'a str>,
    pub in_reply_to: Option<&'a str>,
    pub references: Option<&'a str>,
}

pub fn enqueue(conn: &mut DbConn, mail: &Mail, now: NaiveDateTime) -> QueryResult<i64> {
    diesel::insert_into(outbox::table)
        .values(&NewMail {
            kind: mail.kind,
            recipient: mail.recipient,
            subject: mail.subject,
            body_text: mail.body_text,
            reply_to: mail.reply_to,
            status: "queued",
            attempts: 0,
            next_attempt_at: now,
            created_at: now,
            message_id: mail.message_id,
            in_reply_to: mail.in_reply_to,
            references_header: mail.references,
        })
        .returning(outbox::id)
        .get_result(conn)
}

/// Claims up to `limit` due mails for this worker and returns them; every
/// node runs this, and each mail goes to exactly one of them. On PostgreSQL
/// the candidates are locked with `FOR UPDATE SKIP LOCKED`, so concurrent
/// workers take different rows instead of queueing behind each other. On
/// SQLite (one writer at a time) the update re-checks the lease on each row.
pub fn claim_due(
    conn: &mut DbConn,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<OutboxMail>> {
    use diesel::sql_types::{BigInt, Text, Timestamp};
    let token = crate::crypto::random_token();
    let until = now + Duration::seconds(LEASE_SECONDS);
    match conn {
        DbConn::Postgresql(pg) => {
            diesel::sql_query(
                "UPDATE outbox SET claimed_until = $1, claim_token = $2 WHERE id IN ( \
                 SELECT id FROM outbox WHERE status IN ('queued', 'failing') \
                 AND next_attempt_at <= $3 AND (claimed_until IS NULL OR claimed_until < $3) \
                 ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED)",
            )
            .bind::<Timestamp, _>(until)
            .bind::<Text, _>(&token)
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(limit)
            .execute(pg)?;
        }
        DbConn::Sqlite(_) => {
            let due: Vec<i64> = outbox::table
                .select(outbox::id)
                .filter(outbox::status.eq_any(["queued", "failing"]))
                .filter(outbox::next_attempt_at.le(now))
                .filter(
                    outbox::claimed_until
                        .is_null()
                        .or(outbox::claimed_until.lt(now)),
                )
                .order(outbox::id)
                .limit(limit)
                .load(conn)?;
            if due.is_empty() {
                return Ok(Vec::new());
            }
            diesel::update(
                outbox::table
                    .filter(outbox::id.eq_any(due))
                    .filter(outbox::status.eq_any(["queued", "failing"]))
                    .filter(
                        outbox::claimed_until
                            .is_null()
                            .or(outbox::claimed_until.lt(now)),
                    ),
            )
            .set((
                outbox::claimed_until.eq(until),
                outbox::claim_token.eq(&token),
            ))
            .execute(conn)?;
        }
    }
    outbox::table
        .filter(outbox::claim_token.eq(&token))
        .order(outbox::id)
        .load(conn)
}

pub fn mark_sent(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq("sent"),
            outbox::sent_at.eq(now),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::last_error.eq(None::<String>),
            outbox::claimed_until.eq(None::<NaiveDateTime>),
            outbox::claim_token.eq(None::<String>),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Exponential backoff: 30 s, 1 min, 2 min, … capped at one hour.
pub fn backoff(attempts: i32) -> Duration {
    let exponent = attempts.clamp(0, 7) as u32;
    Duration::seconds((30 * 2_i64.pow(exponent)).min(3600))
}

/// Records a failed attempt: retried later, or given up when the server
/// refused the mail for good (5xx) or after `MAX_ATTEMPTS`.
pub fn mark_failed(
    conn: &mut DbConn,
    mail: &OutboxMail,
    error: &str,
    permanent: bool,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let attempts = mail.attempts + 1;
    let give_up = permanent || attempts >= MAX_ATTEMPTS;
    diesel::update(outbox::table.find(mail.id))
        .set((
            outbox::status.eq(if give_up { "failed" } else { "failing" }),
            outbox::attempts.eq(attempts),
            outbox::last_error.eq(error),
            outbox::next_attempt_at.eq(now + backoff(attempts)),
            outbox::claimed_until.eq(None::<NaiveDateTime>),
            outbox::claim_token.eq(None::<String>),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<OutboxMail>> {
    outbox::table.find(id).first(conn).optional()
}

/// Makes a failed mail due again now (an admin's "retry").
pub fn retry_now(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(outbox::table.find(id).filter(outbox::status.ne("sent")))
        .set((outbox::status.eq("queued"), outbox::next_attempt_at.eq(now)))
        .execute(conn)
        .map(|_| ())
}

/// The newest mails, optionally of one status or to one recipient, for the
/// admin outbox page.
pub fn recent(
    conn: &mut DbConn,
    status: Option<&str>,
    recipient: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<OutboxMail>> {
    let mut query = outbox::table.into_boxed();
    if let Some(status) = status {
        query = query.filter(outbox::status.eq(status.to_string()));
    }
    if let Some(text) = recipient.filter(|r| !r.trim().is_empty()) {
        query = query.filter(
            outbox::recipient
                .like(crate::db::contains_pattern(text))
                .escape('\\'),
        );
    }
    query.order(outbox::id.desc()).limit(limit).load(conn)
}

/// How many mails are in each status.
pub fn status_counts(conn: &mut DbConn) -> QueryResult<Vec<(String, i64)>> {
    outbox::table
        .group_by(outbox::status)
        .select((outbox::status, diesel::dsl::count(outbox::id)))
        .order(outbox::status)
        .load(conn)
}
