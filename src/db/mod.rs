//! Database access: one connection type over SQLite or PostgreSQL, chosen at
//! run time by the URL scheme, with per-connection setup, migrations and
//! write transactions. Dialect differences are written here, except the
//! full-text and report SQL (`search`, `reports`) and a few upserts in
//! `models`, which match on the connection themselves.

pub mod schema;
mod stored_time;
pub use stored_time::{OptionalStoredTime, StoredTime};
pub mod text_enum;

use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Any advisory-lock key will do as long as every node uses the same one.
const MIGRATION_LOCK_KEY: i64 = 0x636f_6e66_6572;

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

pub type Pool = r2d2::Pool<DbManager>;
pub type PooledConn = r2d2::PooledConnection<DbManager>;

/// Where the data lives, parsed from `DATABASE_URL`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(PathBuf),
}

impl DatabaseUrl {
    /// `postgres://` and `postgresql://` select PostgreSQL; `sqlite://path`,
    /// `sqlite:path` or a bare path select SQLite.
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if url.is_empty() {
            return Err("DATABASE_URL is empty".into());
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_string()));
        }
        if let Some((scheme, _)) = url.split_once("://")
            && scheme != "sqlite"
        {
            return Err(format!(
                "DATABASE_URL scheme `{scheme}` is not supported: use postgres://… or a SQLite path"
            ));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() {
            return Err("DATABASE_URL names no SQLite file".into());
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }

    /// A form safe for logs: no password.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite://{}", path.display()),
            Self::Postgres(url) => match (url.find("://"), url.rfind('@')) {
                (Some(start), Some(at)) if at > start => {
                    format!("{}://***{}", &url[..start], &url[at..])
                }
                _ => url.clone(),
            },
        }
    }
}

/// An r2d2 manager that dispatches on the URL scheme itself, so a PostgreSQL
/// error is reported as such instead of silently opening a SQLite file.
#[derive(Clone, Debug)]
pub struct DbManager {
    url: DatabaseUrl,
}

impl DbManager {
    pub fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }
}

impl r2d2::ManageConnection for DbManager {
    type Connection = DbConn;
    type Error = ConnectionError;

    fn connect(&self) -> Result<DbConn, ConnectionError> {
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                let mut conn = PgConnection::establish(url)?;
                // A page's queries take a few milliseconds: starting parallel
                // workers for one costs more than it saves, and under load
                // every core is busy with other requests already.
                //
                // Prepared statements keep their one generic plan: planning
                // again on every run (PostgreSQL's choice for any statement
                // with a bound LIMIT, whose generic plan it costs as if it
                // returned a tenth of the table) took more than running
                // the page's queries. The plans do not depend on the values:
                // conditions that choose an index are written in the SQL.
                conn.batch_execute(
                    "SET max_parallel_workers_per_gather = 0; \
                     SET plan_cache_mode = force_generic_plan",
                )
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConn::Postgresql(conn))
            }
            DatabaseUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())?;
                // busy_timeout first: switching to WAL while other pooled
                // connections open fails with "database is locked" otherwise.
                // `optimize=0x10002`: SQLite's advice when a long-lived
                // connection opens (statistics refreshed only where stale).
                conn.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                     PRAGMA optimize = 0x10002;",
                )
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), ConnectionError> {
        conn.batch_execute("SELECT 1")
            .map_err(ConnectionError::CouldntSetupConfiguration)
    }

    /// A connection whose transaction broke, or that no longer answers
    /// after work on it failed (see `with_connection`), is dropped.
    fn has_broken(&self, conn: &mut DbConn) -> bool {
        std::thread::panicking()
            || diesel::r2d2::R2D2Connection::is_broken(conn)
            || (FAILED_ON_THIS_THREAD.take() && conn.batch_execute("SELECT 1").is_err())
    }
}

thread_local! {
    /// Set by `with_connection` when the work failed, read by `has_broken`
    /// as the connection goes back to the pool on the same thread.
    static FAILED_ON_THIS_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs blocking `work` on a pooled connection. Connections are not tested
/// on checkout (no `SELECT 1` before every request): a broken one shows
/// itself by failing, and after failed work the connection is pinged as it
/// goes back and dropped if it does not answer.
pub fn with_connection<T, E, F>(pool: &Pool, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<r2d2::Error>,
{
    let mut conn = pool.get()?;
    let result = work(&mut conn);
    if result.is_err() {
        FAILED_ON_THIS_THREAD.set(true);
    }
    result
}

/// Builds the pool; for SQLite the file's directory is created if missing.
pub fn connect(url: &DatabaseUrl) -> Result<Pool, String> {
    if let DatabaseUrl::Sqlite(path) = url
        && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create directory {}: {e}", dir.display()))?;
    }
    let size = if url.is_postgres() { 10 } else { 8 };
    // No connections opened ahead of need: r2d2 replaces a checked-out idle
    // connection on a background thread, and a command that then exits
    // (`confer reset-two-factor`, `worker --until-idle`) could end while
    // libpq was still connecting there — a crash at exit, seen on
    // PostgreSQL after the command's work was done.
    r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(0))
        .test_on_check_out(false)
        .connection_timeout(Duration::from_secs(10))
        .build(DbManager::new(url.clone()))
        .map_err(|e| format!("cannot connect to {}: {e}", url.redacted()))
}

/// Refreshes SQLite's planner statistics where they are stale, as SQLite
/// advises long-lived connections to do now and then (the worker runs it
/// hourly). PostgreSQL's autovacuum does this itself.
pub fn optimize(conn: &mut DbConn) -> QueryResult<()> {
    match conn {
        DbConn::Sqlite(c) => c.batch_execute("PRAGMA optimize"),
        DbConn::Postgresql(_) => Ok(()),
    }
}

/// Runs pending migrations. On PostgreSQL an advisory lock keeps several nodes
/// starting at once from migrating concurrently.
pub fn migrate(conn: &mut DbConn) -> Result<usize, String> {
    let applied = match conn {
        DbConn::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.len())
            .map_err(|e| e.to_string())?,
        DbConn::Postgresql(c) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
                .execute(c)
                .map_err(|e| e.to_string())?;
            let result = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len())
                .map_err(|e| e.to_string());
            let _ = diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
                .execute(c);
            result?
        }
    };
    Ok(applied)
}

/// A transaction for work that reads and then writes. SQLite takes the write
/// lock up front (`BEGIN IMMEDIATE`): a deferred transaction that upgrades
/// from read to write fails under concurrency even with a busy timeout.
pub fn write_transaction<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?,
        DbConn::Postgresql(c) => AnsiTransactionManager::begin_transaction(c)?,
    }
    match f(conn) {
        Ok(value) => {
            match conn {
                DbConn::Sqlite(c) => AnsiTransactionManager::commit_transaction(c)?,
                DbConn::Postgresql(c) => AnsiTransactionManager::commit_transaction(c)?,
            }
            Ok(value)
        }
        Err(error) => {
            let _ = match conn {
                DbConn::Sqlite(c) => AnsiTransactionManager::rollback_transaction(c),
                DbConn::Postgresql(c) => AnsiTransactionManager::rollback_transaction(c),
            };
            Err(error)
        }
    }
}

/// Runs a query on the backend's own connection instead of through the
/// multi-backend wrapper, which writes a query's SQL out again on every run:
/// a query of a static type (not boxed) is then found in the statement cache
/// by its type alone. For the queries every page runs.
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite($c) => $body,
            $crate::db::DbConn::Postgresql($c) => $body,
        }
    };
}

/// A whole query written as SQL (`diesel::sql_query` with its binds) that
/// the statement cache keeps, keyed by its text: prepared once per
/// connection instead of parsed and planned on every run (`sql_query`
/// alone is never cached). Every distinct text stays prepared, so the text
/// must come from a small set: values are bound, never written in.
pub struct Prepared<Q>(pub Q);

impl<DB: diesel::backend::Backend, Q: diesel::query_builder::QueryFragment<DB>>
    diesel::query_builder::QueryFragment<DB> for Prepared<Q>
{
    fn walk_ast<'b>(&'b self, out: diesel::query_builder::AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(out)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q> diesel::query_builder::QueryId for Prepared<Q> {
    type QueryId = ();
    // Not static: the cache keys these queries by their SQL text.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: diesel::query_builder::Query> diesel::query_builder::Query for Prepared<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, Conn> diesel::RunQueryDsl<Conn> for Prepared<Q> {}

/// A condition written as SQL, like `diesel::dsl::sql`, that the statement
/// cache may keep (`sql` makes every query holding it be parsed and planned
/// again on each run). Queries holding it are cached by their SQL text,
/// never by their type, so different text is a different statement. Only
/// for text made of constants and integers from the database, never input.
#[derive(Debug, Clone)]
pub struct CachedSql(String);

pub fn cached_sql(sql: impl Into<String>) -> CachedSql {
    CachedSql(sql.into())
}

impl diesel::expression::Expression for CachedSql {
    type SqlType = diesel::sql_types::Bool;
}

impl<DB: diesel::backend::Backend> diesel::query_builder::QueryFragment<DB> for CachedSql {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> QueryResult<()> {
        out.push_sql(&self.0);
        Ok(())
    }
}

impl diesel::query_builder::QueryId for CachedSql {
    type QueryId = ();
    // Not static: the cache keys these queries by their SQL text.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<QS> diesel::expression::SelectableExpression<QS> for CachedSql {}

impl<QS> diesel::expression::AppearsOnTable<QS> for CachedSql {}

impl<GB> diesel::expression::ValidGrouping<GB> for CachedSql {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

/// A selectable value written as SQL, one fixed text per backend (a
/// correlated sub-select, say): `sql_per_backend!(Name, SqlType, sqlite:
/// "...", postgres: "...")`, or `both: "..."` where the two agree. Static
/// text, so the statement cache keeps every query holding it by the
/// query's type.
#[macro_export]
macro_rules! sql_per_backend {
    ($(#[$meta:meta])* $name:ident, $sql_type:ty, both: $sql:expr $(,)?) => {
        $crate::sql_per_backend!($(#[$meta])* $name, $sql_type, sqlite: $sql, postgres: $sql);
    };
    ($(#[$meta:meta])* $name:ident, $sql_type:ty, sqlite: $sqlite:expr, postgres: $pg:expr $(,)?) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, diesel::query_builder::QueryId)]
        pub struct $name;

        impl diesel::expression::Expression for $name {
            type SqlType = $sql_type;
        }

        impl diesel::query_builder::QueryFragment<diesel::sqlite::Sqlite> for $name {
            fn walk_ast<'b>(
                &'b self,
                mut out: diesel::query_builder::AstPass<'_, 'b, diesel::sqlite::Sqlite>,
            ) -> diesel::QueryResult<()> {
                out.push_sql($sqlite);
                Ok(())
            }
        }

        impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for $name {
            fn walk_ast<'b>(
                &'b self,
                mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
            ) -> diesel::QueryResult<()> {
                out.push_sql($pg);
                Ok(())
            }
        }

        impl<QS> diesel::expression::SelectableExpression<QS> for $name {}

        impl<QS> diesel::expression::AppearsOnTable<QS> for $name {}

        impl<GB> diesel::expression::ValidGrouping<GB> for $name {
            type IsAggregate = diesel::expression::is_aggregate::Never;
        }
    };
}

diesel::define_sql_function! {
    /// SQL `lower()`, the same on both backends; for case-insensitive search.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// A lower-case LIKE pattern matching `text` anywhere, with `%`, `_` and `\`
/// escaped (use with `ESCAPE '\'`).
pub fn contains_pattern(text: &str) -> String {
    let escaped = text
        .trim()
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Reverts every migration (newest first). For the round-trip test and for
/// operators who need to step back; `migrate` brings them back.
pub fn revert_all(conn: &mut DbConn) -> Result<usize, String> {
    let reverted = match conn {
        DbConn::Sqlite(c) => c.revert_all_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
        DbConn::Postgresql(c) => c
            .revert_all_migrations(POSTGRES_MIGRATIONS)
            .map(|v| v.len()),
    };
    reverted.map_err(|e| e.to_string())
}
