//! Requests per token per minute, counted in this node's memory (a fixed
//! window): cheap enough for every request, and a database write per API
//! call would serialise SQLite. With several nodes each counts its own share.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{NaiveDateTime, Timelike};

pub struct RateLimiter {
    per_minute: AtomicU32,
    windows: Mutex<HashMap<i64, (i64, u32)>>,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute: AtomicU32::new(per_minute),
            windows: Mutex::new(HashMap::new()),
        }
    }

    pub fn set_limit(&self, per_minute: u32) {
        self.per_minute.store(per_minute, Ordering::Relaxed);
    }

    pub fn limit(&self) -> u32 {
        self.per_minute.load(Ordering::Relaxed)
    }

    /// Counts a request; `Err(seconds)` until the next window when over.
    pub fn check(&self, token_id: i64, now: NaiveDateTime) -> Result<u32, u64> {
        let minute = now.and_utc().timestamp() / 60;
        let limit = self.limit();
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        // Old windows go when the map grows (one entry per active token).
        if windows.len() > 10_000 {
            windows.retain(|_, (m, _)| *m == minute);
        }
        let entry = windows.entry(token_id).or_insert((minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        if entry.1 >= limit {
            return Err(u64::from(60 - now.second()).max(1));
        }
        entry.1 += 1;
        Ok(limit - entry.1)
    }
}
