//! The choices of the team and assignee pickers, kept in this node's memory
//! while `org_settings.pickers_version` stays the same. Database triggers
//! bump that number in the same transaction as every write that changes
//! what the pickers show (any node, any code path), and every request reads
//! it with its context, so a page offering the pickers reads neither list
//! from the database unless it changed.

use std::sync::{Arc, Mutex};

use diesel::QueryResult;

use crate::db::DbConn;
use crate::models::team::{Team, TeamChoice};

/// Every team, and who conversations can be assigned to, by name.
pub struct Pickers {
    pub teams: Vec<TeamChoice>,
    pub assignees: Vec<(i64, String)>,
}

/// The pickers and the version they were read at.
type Kept = Option<(i64, Arc<Pickers>)>;

/// This node's copy of the pickers.
#[derive(Clone, Default)]
pub struct PickerCache(Arc<Mutex<Kept>>);

impl PickerCache {
    /// The pickers as of `version` (read with the request's context): kept
    /// ones if they are of that version, else read now and kept. Read after
    /// `version` was, they are at least that new; kept under it, a later
    /// request that sees a newer version reads them again.
    pub fn get(&self, conn: &mut DbConn, version: i64) -> QueryResult<Arc<Pickers>> {
        let kept = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some((kept_version, pickers)) = kept
            && kept_version == version
        {
            return Ok(pickers);
        }
        let fresh = Arc::new(Pickers {
            teams: Team::choices(conn)?,
            assignees: crate::models::people::assignable_users(conn, None)?,
        });
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((version, fresh.clone()));
        Ok(fresh)
    }
}
