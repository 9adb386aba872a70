//! User-written text: Markdown rendered to HTML, then sanitized — no
//! script, no event handlers, no styles; links open safely. The sanitizer's
//! policy is built once for the process, not per message.

use std::sync::LazyLock;

use pulldown_cmark::{Options, Parser, html};

/// The one sanitizer policy (ammonia's defaults, safe link targets).
static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder
        .link_rel(Some("noopener noreferrer"))
        .url_schemes(["http", "https", "mailto"].into());
    builder
});

pub fn render(text: &str) -> String {
    let mut unsafe_html = String::new();
    html::push_html(
        &mut unsafe_html,
        Parser::new_ext(text, Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES),
    );
    SANITIZER.clean(&unsafe_html).to_string()
}

/// The version of the rendering policy (Markdown options and sanitizer).
/// Bump it whenever either changes: at its next start the server clears
/// the stored HTML and renders every text again (`refresh_stored`).
pub const VERSION: i32 = 1;

/// Rendered now, to be stored beside its source when it is written.
pub fn for_storage(text: &str) -> Option<String> {
    Some(render(text))
}

/// The stored HTML, or — for a row not yet rendered with this policy —
/// the source rendered now.
/// An owned `String` is moved, not copied.
pub fn stored_or_render(html: Option<impl Into<String>>, source: &str) -> String {
    match html {
        Some(html) => html.into(),
        None => render(source),
    }
}

/// (table, source column, HTML column) of every stored rendering.
const STORED: [(&str, &str, &str); 5] = [
    ("messages", "body", "body_html"),
    ("kb_articles", "body", "body_html"),
    ("tasks", "description", "description_html"),
    ("task_comments", "body", "body_html"),
    ("profile_notes", "body", "body_html"),
];

/// Rows rendered per transaction while filling in.
const BATCH: i64 = 500;

#[derive(diesel::QueryableByName)]
struct Source {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    source: String,
}

/// When the stored HTML was made with another policy version, clears it
/// (one statement per table) and records this version. Fast; run at start.
pub fn check_version(conn: &mut crate::db::DbConn) -> diesel::QueryResult<bool> {
    use crate::db::schema::markup_version as mv;
    use diesel::prelude::*;
    let stored: i32 = mv::table.select(mv::version).first(conn)?;
    if stored == VERSION {
        return Ok(false);
    }
    crate::db::write_transaction(conn, |conn| {
        for (table, _, html) in STORED {
            diesel::sql_query(format!("UPDATE {table} SET {html} = NULL")).execute(conn)?;
        }
        diesel::update(mv::table)
            .set(mv::version.eq(VERSION))
            .execute(conn)
            .map(|_| true)
    })
}

/// Renders every text that has no stored HTML yet, a batch per
/// transaction; returns how many. A row edited meanwhile keeps the HTML
/// its edit stored (only rows still without HTML are written).
pub fn fill_missing(pool: &crate::db::Pool) -> Result<usize, String> {
    use crate::db::DbConn;
    use diesel::prelude::*;
    use diesel::sql_types::{BigInt, Text};
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let mut filled = 0;
    for (table, source, html) in STORED {
        // Walked by id, so each batch starts where the last ended.
        let mut after = 0;
        let update = |conn: &DbConn| match conn {
            DbConn::Sqlite(_) => {
                format!("UPDATE {table} SET {html} = ? WHERE id = ? AND {html} IS NULL")
            }
            DbConn::Postgresql(_) => {
                format!("UPDATE {table} SET {html} = $1 WHERE id = $2 AND {html} IS NULL")
            }
        };
        loop {
            let update = update(&conn);
            let select = format!(
                "SELECT id, {source} AS source FROM {table} \
                 WHERE id > {after} AND {html} IS NULL ORDER BY id LIMIT {BATCH}"
            );
            let (done, last) = crate::db::write_transaction(&mut conn, |conn| {
                let rows: Vec<Source> = diesel::sql_query(&select).load(conn)?;
                for row in &rows {
                    diesel::sql_query(&update)
                        .bind::<Text, _>(render(&row.source))
                        .bind::<BigInt, _>(row.id)
                        .execute(conn)?;
                }
                Ok::<_, diesel::result::Error>((rows.len(), rows.last().map(|r| r.id)))
            })
            .map_err(|e| format!("rendering {table}: {e}"))?;
            filled += done;
            match last {
                Some(id) if done as i64 == BATCH => after = id,
                _ => break,
            }
        }
    }
    Ok(filled)
}
