//! The audit log: append-only. Nothing in the application updates or deletes
//! these rows.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::Value;

use crate::db::schema::audit_log;
use crate::db::{DbConn, contains_pattern, lower};

#[derive(Queryable, Clone, Debug)]
pub struct AuditEntry {
    pub id: i64,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<i64>,
    pub target_label: String,
    pub before_state: Option<String>,
    pub after_state: Option<String>,
    pub ip: Option<String>,
    pub created_at: NaiveDateTime,
}

/// Who did it: a signed-in user, or the system (background jobs, SCIM…).
#[derive(Clone, Debug)]
pub struct AuditActor {
    pub id: Option<i64>,
    pub name: String,
    pub ip: Option<String>,
}

impl AuditActor {
    pub fn system() -> Self {
        Self {
            id: None,
            name: "Confer".into(),
            ip: None,
        }
    }
}

pub struct Event<'a> {
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: Option<i64>,
    pub target_label: &'a str,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

pub fn record(
    conn: &mut DbConn,
    actor: &AuditActor,
    event: Event,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::actor_id.eq(actor.id),
            audit_log::actor_name.eq(&actor.name),
            audit_log::action.eq(event.action),
            audit_log::target_type.eq(event.target_type),
            audit_log::target_id.eq(event.target_id),
            audit_log::target_label.eq(event.target_label),
            audit_log::before_state.eq(event.before.map(|v| v.to_string())),
            audit_log::after_state.eq(event.after.map(|v| v.to_string())),
            audit_log::ip.eq(actor.ip.as_deref()),
            audit_log::created_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub target: Option<String>,
    pub action: Option<String>,
    /// Keyset: entries with a smaller id than this (newest first).
    pub before_id: Option<i64>,
}

/// A page of entries, newest first, plus whether more follow.
pub fn page(
    conn: &mut DbConn,
    filter: &AuditFilter,
    limit: i64,
) -> QueryResult<(Vec<AuditEntry>, bool)> {
    let mut query = audit_log::table.into_boxed();
    if let Some(actor) = filter.actor.as_deref().filter(|s| !s.is_empty()) {
        query = query.filter(
            lower(audit_log::actor_name)
                .like(contains_pattern(actor))
                .escape('\\'),
        );
    }
    if let Some(target) = filter.target.as_deref().filter(|s| !s.is_empty()) {
        query = query.filter(
            lower(audit_log::target_label)
                .like(contains_pattern(target))
                .escape('\\'),
        );
    }
    if let Some(action) = filter.action.as_deref().filter(|s| !s.is_empty()) {
        query = query.filter(audit_log::action.eq(action.to_string()));
    }
    if let Some(before) = filter.before_id {
        query = query.filter(audit_log::id.lt(before));
    }
    let mut rows: Vec<AuditEntry> = query
        .order(audit_log::id.desc())
        .limit(limit + 1)
        .load(conn)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    Ok((rows, more))
}

pub fn actions(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    audit_log::table
        .select(audit_log::action)
        .distinct()
        .order(audit_log::action)
        .load(conn)
}
