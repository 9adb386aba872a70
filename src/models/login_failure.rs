//! Failed sign-ins, kept in the database so throttling holds across nodes.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::login_failures;

pub fn record(conn: &mut DbConn, scope: &str, at: NaiveDateTime) -> QueryResult<()> {
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::scope.eq(scope),
            login_failures::failed_at.eq(at),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn count_since(conn: &mut DbConn, scope: &str, since: NaiveDateTime) -> QueryResult<i64> {
    login_failures::table
        .filter(login_failures::scope.eq(scope))
        .filter(login_failures::failed_at.gt(since))
        .count()
        .get_result(conn)
}

/// The oldest failure in the window: the lock lifts when it ages out.
pub fn oldest_since(
    conn: &mut DbConn,
    scope: &str,
    since: NaiveDateTime,
) -> QueryResult<Option<NaiveDateTime>> {
    login_failures::table
        .filter(login_failures::scope.eq(scope))
        .filter(login_failures::failed_at.gt(since))
        .select(diesel::dsl::min(login_failures::failed_at))
        .first(conn)
}

pub fn clear(conn: &mut DbConn, scope: &str) -> QueryResult<()> {
    diesel::delete(login_failures::table.filter(login_failures::scope.eq(scope)))
        .execute(conn)
        .map(|_| ())
}

/// Drops rows too old to matter, so the table stays small.
pub fn prune(conn: &mut DbConn, now: NaiveDateTime, window: Duration) -> QueryResult<usize> {
    diesel::delete(login_failures::table.filter(login_failures::failed_at.lt(now - window)))
        .execute(conn)
}
