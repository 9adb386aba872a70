//! What the benchmarks share: a large workspace seeded in batches, and a
//! signed-in session over loopback HTTP.

use chrono::Utc;
use confer::db::DbConn;
use confer::models::org::{NewOrgSettings, ORG_ID, OrgSettings};
use confer::models::role::Role;
use confer::models::user::{NewUser, User};
use confer::policy::BuiltinRole;
use diesel::prelude::*;

pub const PASSWORD: &str = "bench-password-123";
const WORDS: [&str; 12] = [
    "printer", "invoice", "refund", "login", "delivery", "parcel", "upgrade", "password", "crash",
    "export", "billing", "shipping",
];

pub fn insert_batches(conn: &mut DbConn, sql_head: &str, rows: &[String]) -> QueryResult<()> {
    for chunk in rows.chunks(500) {
        let sql = format!("{sql_head} VALUES {}", chunk.join(","));
        match conn {
            DbConn::Sqlite(c) => diesel::sql_query(sql).execute(c)?,
            DbConn::Postgresql(c) => diesel::sql_query(sql).execute(c)?,
        };
    }
    Ok(())
}

/// N conversations (the first with 30 messages, the others 5), their
/// customers, five teams and the owner `owner@bench.test`.
pub fn seed(conn: &mut DbConn, n: usize) -> QueryResult<i64> {
    let now = Utc::now().naive_utc();
    OrgSettings::create(
        conn,
        &NewOrgSettings {
            id: ORG_ID,
            name: "Bench",
            default_language: "en",
            timezone: "UTC",
            created_at: now,
            updated_at: now,
        },
    )?;
    let hash = bcrypt::hash(PASSWORD, 4)
        .map_err(|e| diesel::result::Error::QueryBuilderError(e.to_string().into()))?;
    let owner_role = Role::id_of(conn, BuiltinRole::Owner)?;
    User::create(
        conn,
        &NewUser {
            name: "Owner",
            email: "owner@bench.test",
            password_hash: Some(&hash),
            user_type: "full_time",
            role_id: Some(owner_role),
            language: None,
            timezone: None,
            conversation_access: "all",
            active: true,
            access_starts: None,
            access_ends: None,
            session_version: 1,
            created_at: now,
            updated_at: now,
        },
    )?;
    let ts = |minutes: usize| {
        (now - chrono::Duration::minutes(minutes as i64))
            .format("'%Y-%m-%d %H:%M:%S'")
            .to_string()
    };
    insert_batches(
        conn,
        "INSERT INTO teams (name, created_at)",
        &(0..5)
            .map(|t| format!("('Team {t}', {})", ts(0)))
            .collect::<Vec<_>>(),
    )?;
    let customers = (n / 10).max(1);
    let rows: Vec<String> = (0..customers)
        .map(|c| format!("('Customer {c}', 'c{c}@bench.test', {})", ts(0)))
        .collect();
    insert_batches(
        conn,
        "INSERT INTO customers (name, email, created_at)",
        &rows,
    )?;
    let statuses = ["open", "pending", "done", "done"];
    let rows: Vec<String> = (0..n)
        .map(|i| {
            let word = WORDS[i % WORDS.len()];
            // Done conversations were closed 3 to 3,000 minutes later; a
            // third are assigned to the owner (for the per-agent report).
            let closed = if statuses[i % 4] == "done" {
                ts((n - i).saturating_sub(3 + (i * 37) % 3000))
            } else {
                "NULL".into()
            };
            format!(
                "('{word} question {i}', {}, '{}', 'normal', {}, {}, 'email', {t}, {t}, {t}, {closed})",
                i % customers + 1,
                statuses[i % 4],
                if i % 3 == 0 { "1" } else { "NULL" },
                i % 5 + 1,
                t = ts(n - i)
            )
        })
        .collect();
    insert_batches(
        conn,
        "INSERT INTO conversations (subject, customer_id, status, priority, assignee_id, team_id, channel, created_at, updated_at, last_activity_at, closed_at)",
        &rows,
    )?;
    // Five messages each; conversation 1 gets thirty. About one message in
    // a hundred mentions "ultramarine", the word the benchmark searches.
    let mut rows = Vec::with_capacity(n * 5 + 30);
    for conversation in 1..=n {
        let count = if conversation == 1 { 30 } else { 5 };
        for m in 0..count {
            let kind = ["customer", "reply", "note"][m % 3];
            let word = if (conversation * 7 + m) % 100 == 0 {
                "ultramarine"
            } else {
                WORDS[(conversation + m) % WORDS.len()]
            };
            // Each message a few minutes after the one before (replies by the owner).
            rows.push(format!(
                "({conversation}, '{kind}', {}, 'Message {m} about the {word} issue, with a few more words to index.', {})",
                if kind == "customer" { "NULL" } else { "1" },
                ts((n - conversation).saturating_sub(m * 7))
            ));
        }
    }
    insert_batches(
        conn,
        "INSERT INTO messages (conversation_id, kind, author_user_id, body, created_at)",
        &rows,
    )?;
    Ok(1)
}

/// Signs in as the bench owner: the session cookie (`name=value`).
pub fn sign_in(base: &str) -> Result<String, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .max_redirects_will_error(false)
        .http_status_as_error(false)
        .build()
        .into();
    let cookie_of = |r: &ureq::http::Response<ureq::Body>| {
        r.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("confer_session="))
            .map(|v| v.split(';').next().unwrap_or_default().to_string())
    };
    let mut login = agent
        .get(format!("{base}/login"))
        .call()
        .map_err(|e| e.to_string())?;
    let cookie = cookie_of(&login).ok_or("no session cookie")?;
    let page = login
        .body_mut()
        .read_to_string()
        .map_err(|e| e.to_string())?;
    let token = page
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .ok_or("no csrf token")?
        .to_string();
    let signed_in = agent
        .post(format!("{base}/login"))
        .header("Cookie", &cookie)
        .send_form([
            ("csrf_token", token.as_str()),
            ("email", "owner@bench.test"),
            ("password", PASSWORD),
        ])
        .map_err(|e| e.to_string())?;
    cookie_of(&signed_in).ok_or_else(|| "not signed in".to_string())
}

/// A personal API token of the bench owner.
pub fn api_token(conn: &mut DbConn) -> Result<String, String> {
    let owner = User::find_by_email(conn, "owner@bench.test")
        .map_err(|e| e.to_string())?
        .ok_or("no owner")?;
    Ok(
        confer::models::api_token::create(conn, owner.id, "bench", Utc::now().naive_utc())
            .map_err(|e| e.to_string())?
            .1,
    )
}

/// The configuration and migrated pool of a bench workspace on `url`, with
/// its data directory `data_dir`.
pub fn prepare(
    url: confer::db::DatabaseUrl,
    data_dir: &std::path::Path,
) -> Result<(confer::config::Config, confer::db::Pool), String> {
    let config = confer::config::Config::from_lookup(|name| match name {
        "CONFER_DATA_DIR" => Some(data_dir.to_string_lossy().into_owned()),
        "CONFER_SECRET_KEY" => Some("bench-secret-key-0123456789abcdef0123".into()),
        "CONFER_BCRYPT_COST" => Some("4".into()),
        _ => None,
    })
    .map_err(|e| e.0)?;
    let config = confer::config::Config {
        database_url: url,
        ..config
    };
    let pool = confer::cli::prepare(&config)?;
    Ok((config, pool))
}

/// Seeds `n` conversations in one transaction, then gathers planner
/// statistics on PostgreSQL (vacuumed too), and on SQLite when `analyze_sqlite`.
pub fn seed_and_analyze(
    pool: &confer::db::Pool,
    n: usize,
    analyze_sqlite: bool,
) -> Result<(), String> {
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    confer::db::write_transaction(&mut conn, |conn| seed(conn, n)).map_err(|e| e.to_string())?;
    drop(conn);
    // As a server does at start: the seeded texts get their stored HTML.
    confer::markdown::fill_missing(pool)?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    match &mut *conn {
        // As autovacuum would have by then: the stored HTML just written
        // left a dead version of every message behind.
        DbConn::Postgresql(c) => diesel::sql_query("VACUUM ANALYZE").execute(c).map(|_| ()),
        DbConn::Sqlite(c) if analyze_sqlite => diesel::sql_query("ANALYZE").execute(c).map(|_| ()),
        DbConn::Sqlite(_) => Ok(()),
    }
    .map_err(|e| e.to_string())
}
