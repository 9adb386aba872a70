//! Counting events per scope in a sliding window, in the database so every
//! node sees the same counts (public forms).

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::rate_events;

/// Records an event unless `limit` events already happened in `window`;
/// returns whether it was allowed.
pub fn allow(
    conn: &mut DbConn,
    scope: &str,
    limit: i64,
    window: Duration,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let since = now - window;
    diesel::delete(rate_events::table.filter(rate_events::at.lt(now - Duration::days(1))))
        .execute(conn)?;
    let recent: i64 = rate_events::table
        .filter(rate_events::scope.eq(scope))
        .filter(rate_events::at.gt(since))
        .count()
        .get_result(conn)?;
    if recent >= limit {
        return Ok(false);
    }
    diesel::insert_into(rate_events::table)
        .values((rate_events::scope.eq(scope), rate_events::at.eq(now)))
        .execute(conn)?;
    Ok(true)
}
