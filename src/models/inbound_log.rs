//! Every inbound mail leaves one row: what came, and what Confer did with it
//! (opened or continued a conversation, added a note, ignored or rejected it
//! and why). Settings > Email shows the newest rows.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::inbound_mail;

#[derive(Queryable, Clone, Debug)]
pub struct InboundEntry {
    pub id: i64,
    pub received_at: NaiveDateTime,
    pub sender: Option<String>,
    pub subject: String,
    pub message_id: Option<String>,
    /// `created`, `appended`, `noted`, `ignored` or `rejected`.
    pub outcome: String,
    pub detail: String,
    pub conversation_id: Option<i64>,
}

pub struct NewEntry<'a> {
    pub sender: Option<&'a str>,
    pub subject: &'a str,
    pub message_id: Option<&'a str>,
    pub outcome: &'a str,
    pub detail: &'a str,
    pub conversation_id: Option<i64>,
}

pub fn record(conn: &mut DbConn, entry: &NewEntry, now: NaiveDateTime) -> QueryResult<i64> {
    diesel::insert_into(inbound_mail::table)
        .values((
            inbound_mail::received_at.eq(now),
            inbound_mail::sender.eq(entry.sender),
            inbound_mail::subject.eq(entry.subject),
            inbound_mail::message_id.eq(entry.message_id),
            inbound_mail::outcome.eq(entry.outcome),
            inbound_mail::detail.eq(entry.detail),
            inbound_mail::conversation_id.eq(entry.conversation_id),
        ))
        .returning(inbound_mail::id)
        .get_result(conn)
}

/// Whether a mail with this Message-ID was already taken in (an MTA that
/// retries, or a mail delivered to two of our addresses).
pub fn already_taken(conn: &mut DbConn, message_id: &str) -> QueryResult<Option<i64>> {
    inbound_mail::table
        .filter(inbound_mail::message_id.eq(message_id))
        .filter(inbound_mail::outcome.eq_any(["created", "appended", "noted"]))
        .select(inbound_mail::conversation_id)
        .first::<Option<i64>>(conn)
        .optional()
        .map(Option::flatten)
}

pub fn recent(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<InboundEntry>> {
    inbound_mail::table
        .order(inbound_mail::id.desc())
        .limit(limit)
        .load(conn)
}
