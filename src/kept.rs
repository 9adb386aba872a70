//! What a node keeps in memory between requests, each piece under versions
//! the database bumps by trigger in the same transaction as every write
//! that changes it (any node, any code path). Every page reads the versions
//! first (with its context, or with the row it shows), so nothing kept is
//! older than what the database held when the page began:
//! - the team and assignee pickers, under `org_settings.directory_version`;
//! - a conversation's rendered thread, under its `timeline_version`, the
//!   `directory_version` (authors' names) and the reader's language and
//!   timezone.

use std::collections::HashMap;
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
type KeptPickers = Option<(i64, Arc<Pickers>)>;

/// This node's copy of the pickers.
#[derive(Clone, Default)]
pub struct PickerCache(Arc<Mutex<KeptPickers>>);

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

/// How many threads a node keeps; when full it starts over (a thread is
/// rendered again on its next view).
const KEPT_THREADS: usize = 512;

/// A rendered thread and the newest message in it.
pub struct Thread {
    pub html: String,
    pub newest: i64,
}

/// Which thread, as of which versions, for which reader.
#[derive(Clone, Copy)]
pub struct ThreadKey {
    pub conversation_id: i64,
    pub timeline_version: i64,
    pub directory_version: i64,
    pub lang: crate::i18n::Lang,
    pub tz: chrono_tz::Tz,
}

/// Where a thread is kept: one per conversation and reader's language and
/// timezone, so a newer version takes the older one's place.
type Slot = (i64, crate::i18n::Lang, chrono_tz::Tz);

/// A kept thread with the timeline and directory versions it shows.
type KeptThread = (i64, i64, Arc<Thread>);

/// This node's rendered threads.
#[derive(Clone, Default)]
pub struct ThreadCache(Arc<Mutex<HashMap<Slot, KeptThread>>>);

impl ThreadKey {
    fn slot(&self) -> Slot {
        (self.conversation_id, self.lang, self.tz)
    }
}

impl ThreadCache {
    /// The thread kept for exactly these versions, if any.
    pub fn get(&self, key: &ThreadKey) -> Option<Arc<Thread>> {
        let kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        kept.get(&key.slot())
            .filter(|(timeline, directory, _)| {
                *timeline == key.timeline_version && *directory == key.directory_version
            })
            .map(|(_, _, thread)| thread.clone())
    }

    pub fn keep(&self, key: ThreadKey, thread: Arc<Thread>) {
        let mut kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() >= KEPT_THREADS {
            kept.clear();
        }
        kept.insert(
            key.slot(),
            (key.timeline_version, key.directory_version, thread),
        );
    }
}
