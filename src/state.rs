//! What every request and background round shares: the pool, the
//! configuration, the clock and small per-node state. Below the routes and
//! handlers: nothing here knows about them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use actix_web::web;
use chrono::NaiveDateTime;

use crate::config::Config;
use crate::db::{DbConn, Pool};
use crate::error::AppResult;

/// "Now", shifted by an offset that tests can move (seasonal windows,
/// throttling windows). In production the offset is always zero.
#[derive(Clone, Default)]
pub struct Clock {
    offset_seconds: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> NaiveDateTime {
        chrono::Utc::now().naive_utc()
            + chrono::Duration::seconds(self.offset_seconds.load(Ordering::Relaxed))
    }

    pub fn advance(&self, by: chrono::Duration) {
        self.offset_seconds
            .fetch_add(by.num_seconds(), Ordering::Relaxed);
    }
}

pub struct AppState {
    pub pool: Pool,
    pub config: Arc<Config>,
    pub clock: Clock,
    /// Requests per API token per minute (in this node's memory).
    pub api_limiter: crate::rate_limit::RateLimiter,
    /// Once an owner exists it always will; until then every request asks.
    owner_exists: AtomicBool,
    /// A hash at the configured cost to verify against for unknown accounts.
    dummy_hash: std::sync::OnceLock<String>,
    /// Set when the server is shutting down: answers close their connection.
    draining: AtomicBool,
    /// On PostgreSQL, turns at the pool given in order of arrival: at most
    /// one database job per connection (less one, left to the background
    /// worker) runs on the blocking threads; the others wait here without
    /// holding a thread. r2d2's own wait is not first come, first served — a
    /// waiter woken for a returned connection can lose it to a newcomer and
    /// queue again — which under load left a few requests waiting half a
    /// second or more. SQLite's jobs are short enough that its tails stayed
    /// small, and there the queue cost a quarter of the inbox's throughput.
    db_turns: Option<tokio::sync::Semaphore>,
    /// The team and assignee pickers as this node last read them.
    pub pickers: crate::kept::PickerCache,
    /// Conversation threads as this node last rendered them.
    pub threads: crate::kept::ThreadCache,
}

impl AppState {
    pub fn new(pool: Pool, config: Config, clock: Clock) -> Self {
        let turns = config.database_url.is_postgres().then(|| {
            tokio::sync::Semaphore::new((pool.max_size() as usize).saturating_sub(1).max(1))
        });
        Self {
            pool,
            api_limiter: crate::rate_limit::RateLimiter::new(config.api_rate_per_minute),
            config: Arc::new(config),
            clock,
            owner_exists: AtomicBool::new(false),
            dummy_hash: std::sync::OnceLock::new(),
            db_turns: turns,
            draining: AtomicBool::new(false),
            pickers: Default::default(),
            threads: Default::default(),
        }
    }

    /// Runs blocking database work on the thread pool.
    pub async fn db<T, F>(&self, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
    {
        self.run_db(work).await
    }

    /// Runs blocking database work on the thread pool, after waiting for
    /// its turn at the pool; for the browser's, the API's and SCIM's
    /// errors alike.
    pub async fn run_db<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<r2d2::Error> + From<actix_web::error::BlockingError> + Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
    {
        let _turn = self.db_turn().await;
        let pool = self.pool.clone();
        web::block(move || crate::db::with_connection(&pool, work)).await?
    }

    /// Waits for a turn at the pool (`db_turns`); held while the job runs.
    async fn db_turn(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        match &self.db_turns {
            // Never closed: acquiring fails only on a closed semaphore.
            Some(turns) => turns.acquire().await.ok(),
            None => None,
        }
    }

    /// What an unknown account's password is checked against, hashed at the
    /// configured cost so both answers take the same time.
    pub async fn dummy_hash(&self) -> AppResult<String> {
        if let Some(hash) = self.dummy_hash.get() {
            return Ok(hash.clone());
        }
        let cost = self.config.bcrypt_cost;
        let hash = web::block(move || bcrypt::hash(crate::crypto::random_token(), cost))
            .await?
            .map_err(|e| crate::error::AppError::Internal(format!("bcrypt: {e}")))?;
        Ok(self.dummy_hash.get_or_init(|| hash).clone())
    }

    /// From now on every answer closes its connection (shutdown is near).
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    pub async fn owner_exists(&self) -> AppResult<bool> {
        if self.owner_exists.load(Ordering::Relaxed) {
            return Ok(true);
        }
        let exists = self
            .db(|conn| Ok(crate::models::user::User::owner_exists(conn)?))
            .await?;
        if exists {
            self.owner_exists.store(true, Ordering::Relaxed);
        }
        Ok(exists)
    }
}
