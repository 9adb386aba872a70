//! The knowledge base: categories > sections > articles (ordered by hand),
//! articles per language, and a revision for every saved state. Public
//! queries take only published articles; drafts never leave the app.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::db::DbConn;
use crate::db::schema::{kb_articles, kb_categories, kb_revisions, kb_sections, users};

#[derive(Queryable, Clone, Debug)]
pub struct Category {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub position: i32,
    pub created_at: NaiveDateTime,
}

#[derive(Queryable, Clone, Debug)]
pub struct Section {
    pub id: i64,
    pub category_id: i64,
    pub name: String,
    pub slug: String,
    pub position: i32,
    pub created_at: NaiveDateTime,
}

#[derive(Queryable, Clone, Debug)]
pub struct Article {
    pub id: i64,
    pub section_id: i64,
    pub translation_of: Option<i64>,
    pub language: String,
    pub title: String,
    pub slug: String,
    pub body: String,
    /// `body` rendered and sanitized when written (`None`: not yet).
    pub body_html: Option<String>,
    pub state: String,
    pub position: i32,
    pub author_id: Option<i64>,
    pub editor_id: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub published_at: Option<NaiveDateTime>,
}

impl Article {
    pub fn is_published(&self) -> bool {
        self.state == "published"
    }

    /// The original of a group of translations.
    pub fn group_id(&self) -> i64 {
        self.translation_of.unwrap_or(self.id)
    }

    /// `/help/articles/12-reset-your-password`.
    pub fn public_path(&self) -> String {
        format!("/help/articles/{}-{}", self.id, self.slug)
    }
}

#[derive(Queryable, Clone, Debug)]
pub struct Revision {
    pub id: i64,
    pub article_id: i64,
    pub title: String,
    pub body: String,
    pub state: String,
    pub editor_id: Option<i64>,
    pub editor_name: String,
    pub created_at: NaiveDateTime,
}

/// A URL-friendly, ASCII form of a title: `¿Cómo reinicio?` → `como-reinicio`.
/// Accented Latin letters lose their accents; other scripts fall back to
/// `article` (the id in the URL is what finds the article).
pub fn slugify(title: &str) -> String {
    let mut slug = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        let plain = match c {
            'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' => "a",
            'é' | 'è' | 'ê' | 'ë' => "e",
            'í' | 'ì' | 'î' | 'ï' => "i",
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'ø' => "o",
            'ú' | 'ù' | 'û' | 'ü' => "u",
            'ñ' => "n",
            'ç' => "c",
            'ß' => "ss",
            c if c.is_ascii_alphanumeric() => {
                slug.push(c);
                continue;
            }
            _ => "",
        };
        if !plain.is_empty() {
            slug.push_str(plain);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_end_matches('-').chars().take(80).collect();
    if slug.is_empty() {
        "article".into()
    } else {
        slug
    }
}

/// The id at the start of `12-some-slug`.
pub fn id_of(path_segment: &str) -> Option<i64> {
    path_segment
        .split('-')
        .next()
        .and_then(|id| id.parse().ok())
}

// --- Categories and sections --------------------------------------------

pub fn categories(conn: &mut DbConn) -> QueryResult<Vec<Category>> {
    kb_categories::table
        .order((kb_categories::position, kb_categories::id))
        .load(conn)
}

pub fn sections(conn: &mut DbConn) -> QueryResult<Vec<Section>> {
    kb_sections::table
        .order((
            kb_sections::category_id,
            kb_sections::position,
            kb_sections::id,
        ))
        .load(conn)
}

pub fn find_category(conn: &mut DbConn, id: i64) -> QueryResult<Option<Category>> {
    kb_categories::table.find(id).first(conn).optional()
}

pub fn find_section(conn: &mut DbConn, id: i64) -> QueryResult<Option<Section>> {
    kb_sections::table.find(id).first(conn).optional()
}

pub fn create_category(
    conn: &mut DbConn,
    name: &str,
    description: &str,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    let position: Option<i32> = kb_categories::table
        .select(diesel::dsl::max(kb_categories::position))
        .first(conn)?;
    diesel::insert_into(kb_categories::table)
        .values((
            kb_categories::name.eq(name),
            kb_categories::slug.eq(slugify(name)),
            kb_categories::description.eq(description),
            kb_categories::position.eq(position.unwrap_or(0) + 1),
            kb_categories::created_at.eq(now),
        ))
        .returning(kb_categories::id)
        .get_result(conn)
}

pub fn update_category(
    conn: &mut DbConn,
    id: i64,
    name: &str,
    description: &str,
) -> QueryResult<usize> {
    diesel::update(kb_categories::table.find(id))
        .set((
            kb_categories::name.eq(name),
            kb_categories::slug.eq(slugify(name)),
            kb_categories::description.eq(description),
        ))
        .execute(conn)
}

pub fn create_section(
    conn: &mut DbConn,
    category_id: i64,
    name: &str,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    let position: Option<i32> = kb_sections::table
        .filter(kb_sections::category_id.eq(category_id))
        .select(diesel::dsl::max(kb_sections::position))
        .first(conn)?;
    diesel::insert_into(kb_sections::table)
        .values((
            kb_sections::category_id.eq(category_id),
            kb_sections::name.eq(name),
            kb_sections::slug.eq(slugify(name)),
            kb_sections::position.eq(position.unwrap_or(0) + 1),
            kb_sections::created_at.eq(now),
        ))
        .returning(kb_sections::id)
        .get_result(conn)
}

pub fn update_section(
    conn: &mut DbConn,
    id: i64,
    category_id: i64,
    name: &str,
) -> QueryResult<usize> {
    diesel::update(kb_sections::table.find(id))
        .set((
            kb_sections::category_id.eq(category_id),
            kb_sections::name.eq(name),
            kb_sections::slug.eq(slugify(name)),
        ))
        .execute(conn)
}

/// Deletes an empty category (one with no sections); returns whether it did.
pub fn delete_category(conn: &mut DbConn, id: i64) -> QueryResult<bool> {
    let sections: i64 = kb_sections::table
        .filter(kb_sections::category_id.eq(id))
        .count()
        .get_result(conn)?;
    if sections > 0 {
        return Ok(false);
    }
    diesel::delete(kb_categories::table.find(id))
        .execute(conn)
        .map(|n| n > 0)
}

/// Deletes an empty section (one with no articles); returns whether it did.
pub fn delete_section(conn: &mut DbConn, id: i64) -> QueryResult<bool> {
    let articles: i64 = kb_articles::table
        .filter(kb_articles::section_id.eq(id))
        .count()
        .get_result(conn)?;
    if articles > 0 {
        return Ok(false);
    }
    diesel::delete(kb_sections::table.find(id))
        .execute(conn)
        .map(|n| n > 0)
}

/// What can be moved up or down among its siblings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Movable {
    Category,
    Section,
    Article,
}

#[derive(QueryableByName)]
struct Sibling {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Moves an item one place up or down among its siblings (renumbering
/// them 1, 2, 3 … in the new order). Returns false when it is already at
/// that end.
pub fn move_item(conn: &mut DbConn, what: Movable, id: i64, up: bool) -> QueryResult<bool> {
    let (table, parent) = match what {
        Movable::Category => ("kb_categories", None),
        Movable::Section => ("kb_sections", Some("category_id")),
        Movable::Article => ("kb_articles", Some("section_id")),
    };
    let scope = match parent {
        // Translations follow their original; only originals are ordered.
        Some(column) => format!(
            "WHERE {column} = (SELECT {column} FROM {table} WHERE id = {id}){}",
            if what == Movable::Article {
                " AND translation_of IS NULL"
            } else {
                ""
            }
        ),
        None => String::new(),
    };
    let siblings: Vec<Sibling> = diesel::sql_query(format!(
        "SELECT id FROM {table} {scope} ORDER BY position, id"
    ))
    .load(conn)?;
    let mut order: Vec<i64> = siblings.into_iter().map(|s| s.id).collect();
    let Some(at) = order.iter().position(|&x| x == id) else {
        return Ok(false);
    };
    let other = if up { at.checked_sub(1) } else { Some(at + 1) };
    let Some(other) = other.filter(|&o| o < order.len()) else {
        return Ok(false);
    };
    order.swap(at, other);
    for (index, sibling) in order.iter().enumerate() {
        diesel::sql_query(format!(
            "UPDATE {table} SET position = {} WHERE id = {sibling}",
            index + 1
        ))
        .execute(conn)?;
    }
    if what == Movable::Article {
        // Translations take their original's place.
        diesel::sql_query(
            "UPDATE kb_articles SET position = (SELECT o.position FROM kb_articles o \
             WHERE o.id = kb_articles.translation_of) WHERE translation_of IS NOT NULL",
        )
        .execute(conn)?;
    }
    Ok(true)
}

// --- Articles -----------------------------------------------------------

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<Article>> {
    kb_articles::table.find(id).first(conn).optional()
}

/// Every article, in tree order (for the in-app knowledge base).
pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Article>> {
    kb_articles::table
        .order((
            kb_articles::section_id,
            kb_articles::position,
            kb_articles::translation_of.is_not_null(),
            kb_articles::id,
        ))
        .load(conn)
}

/// The versions of one article in other languages (the original included).
pub fn translations(conn: &mut DbConn, group_id: i64) -> QueryResult<Vec<Article>> {
    kb_articles::table
        .filter(
            kb_articles::id
                .eq(group_id)
                .or(kb_articles::translation_of.eq(group_id)),
        )
        .order(kb_articles::id)
        .load(conn)
}

pub struct NewArticle<'a> {
    pub section_id: i64,
    pub translation_of: Option<i64>,
    pub language: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub author_id: i64,
    pub author_name: &'a str,
}

pub fn create(conn: &mut DbConn, new: &NewArticle, now: NaiveDateTime) -> QueryResult<i64> {
    let position: i32 = match new.translation_of {
        Some(original) => kb_articles::table
            .find(original)
            .select(kb_articles::position)
            .first(conn)?,
        None => {
            let last: Option<i32> = kb_articles::table
                .filter(kb_articles::section_id.eq(new.section_id))
                .select(diesel::dsl::max(kb_articles::position))
                .first(conn)?;
            last.unwrap_or(0) + 1
        }
    };
    let id = diesel::insert_into(kb_articles::table)
        .values((
            kb_articles::section_id.eq(new.section_id),
            kb_articles::translation_of.eq(new.translation_of),
            kb_articles::language.eq(new.language),
            kb_articles::title.eq(new.title),
            kb_articles::slug.eq(slugify(new.title)),
            kb_articles::body.eq(new.body),
            kb_articles::body_html.eq(crate::markdown::for_storage(new.body)),
            kb_articles::state.eq("draft"),
            kb_articles::position.eq(position),
            kb_articles::author_id.eq(new.author_id),
            kb_articles::editor_id.eq(new.author_id),
            kb_articles::created_at.eq(now),
            kb_articles::updated_at.eq(now),
        ))
        .returning(kb_articles::id)
        .get_result(conn)?;
    record_revision(conn, id, (new.author_id, new.author_name), now)?;
    Ok(id)
}

/// Saves new content (a revision is kept).
pub fn update(
    conn: &mut DbConn,
    id: i64,
    section_id: i64,
    title: &str,
    body: &str,
    editor: (i64, &str),
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(kb_articles::table.find(id))
        .set((
            kb_articles::section_id.eq(section_id),
            kb_articles::title.eq(title),
            kb_articles::slug.eq(slugify(title)),
            kb_articles::body.eq(body),
            kb_articles::body_html.eq(crate::markdown::for_storage(body)),
            kb_articles::editor_id.eq(editor.0),
            kb_articles::updated_at.eq(now),
        ))
        .execute(conn)?;
    // Translations live in their original's section.
    diesel::update(kb_articles::table.filter(kb_articles::translation_of.eq(id)))
        .set(kb_articles::section_id.eq(section_id))
        .execute(conn)?;
    record_revision(conn, id, editor, now)
}

/// Publishes or unpublishes (a revision records who and when).
pub fn set_state(
    conn: &mut DbConn,
    id: i64,
    published: bool,
    editor: (i64, &str),
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(kb_articles::table.find(id))
        .set((
            kb_articles::state.eq(if published { "published" } else { "draft" }),
            kb_articles::published_at.eq(published.then_some(now)),
            kb_articles::editor_id.eq(editor.0),
            kb_articles::updated_at.eq(now),
        ))
        .execute(conn)?;
    record_revision(conn, id, editor, now)
}

pub fn delete(conn: &mut DbConn, id: i64) -> QueryResult<()> {
    diesel::delete(kb_articles::table.find(id))
        .execute(conn)
        .map(|_| ())
}

fn record_revision(
    conn: &mut DbConn,
    article_id: i64,
    editor: (i64, &str),
    now: NaiveDateTime,
) -> QueryResult<()> {
    let (title, body, state): (String, String, String) = kb_articles::table
        .find(article_id)
        .select((kb_articles::title, kb_articles::body, kb_articles::state))
        .first(conn)?;
    diesel::insert_into(kb_revisions::table)
        .values((
            kb_revisions::article_id.eq(article_id),
            kb_revisions::title.eq(title),
            kb_revisions::body.eq(body),
            kb_revisions::state.eq(state),
            kb_revisions::editor_id.eq(editor.0),
            kb_revisions::editor_name.eq(editor.1),
            kb_revisions::created_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Newest first.
pub fn revisions(conn: &mut DbConn, article_id: i64) -> QueryResult<Vec<Revision>> {
    kb_revisions::table
        .filter(kb_revisions::article_id.eq(article_id))
        .order(kb_revisions::id.desc())
        .load(conn)
}

/// The name of whoever last edited, for the article page.
pub fn user_name(conn: &mut DbConn, id: Option<i64>) -> QueryResult<Option<String>> {
    match id {
        Some(id) => users::table
            .find(id)
            .select(users::name)
            .first(conn)
            .optional(),
        None => Ok(None),
    }
}

// --- The public help center ---------------------------------------------

/// The published articles of a section in the visitor's language: an
/// article's version in `language` when one is published, else its
/// published original.
pub fn published_in_section(
    conn: &mut DbConn,
    section_id: i64,
    language: &str,
) -> QueryResult<Vec<Article>> {
    let all: Vec<Article> = kb_articles::table
        .filter(kb_articles::section_id.eq(section_id))
        .filter(kb_articles::state.eq("published"))
        .order((kb_articles::position, kb_articles::id))
        .load(conn)?;
    Ok(pick_languages(all, language))
}

/// Every published article in the visitor's language, by section (one
/// query for the whole help center).
pub fn published_by_section(
    conn: &mut DbConn,
    language: &str,
) -> QueryResult<std::collections::HashMap<i64, Vec<Article>>> {
    let all: Vec<Article> = kb_articles::table
        .filter(kb_articles::state.eq("published"))
        .order((
            kb_articles::section_id,
            kb_articles::position,
            kb_articles::id,
        ))
        .load(conn)?;
    let mut by_section: std::collections::HashMap<i64, Vec<Article>> = Default::default();
    for article in all {
        by_section
            .entry(article.section_id)
            .or_default()
            .push(article);
    }
    Ok(by_section
        .into_iter()
        .map(|(section, articles)| (section, pick_languages(articles, language)))
        .collect())
}

/// Of each group of translations, the one in `language`, else the original.
fn pick_languages(articles: Vec<Article>, language: &str) -> Vec<Article> {
    let mut picked: Vec<Article> = Vec::new();
    for article in &articles {
        let group = article.group_id();
        let in_language = articles
            .iter()
            .find(|a| a.group_id() == group && a.language == language);
        let chosen = in_language
            .or_else(|| articles.iter().find(|a| a.id == group))
            .unwrap_or(article);
        if chosen.id == article.id && !picked.iter().any(|p| p.group_id() == group) {
            picked.push(article.clone());
        }
    }
    picked
}

/// A published article, or nothing (drafts are never public).
pub fn find_published(conn: &mut DbConn, id: i64) -> QueryResult<Option<Article>> {
    kb_articles::table
        .find(id)
        .filter(kb_articles::state.eq("published"))
        .first(conn)
        .optional()
}

/// Every published article, for the sitemap.
pub fn all_published(conn: &mut DbConn) -> QueryResult<Vec<Article>> {
    kb_articles::table
        .filter(kb_articles::state.eq("published"))
        .order(kb_articles::id)
        .load(conn)
}

#[derive(QueryableByName)]
struct Hit {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Full-text search with the database's engine; `published_only` for the
/// public help center.
pub fn search(
    conn: &mut DbConn,
    text: &str,
    published_only: bool,
    limit: i64,
) -> QueryResult<Vec<Article>> {
    let state = if published_only {
        " AND a.state = 'published'"
    } else {
        ""
    };
    let hits: Vec<Hit> = match conn {
        DbConn::Sqlite(c) => {
            let Some(query) = crate::search::fts5_query(text) else {
                return Ok(Vec::new());
            };
            diesel::sql_query(format!(
                "SELECT a.id AS id FROM kb_fts JOIN kb_articles a ON a.id = kb_fts.rowid \
                 WHERE kb_fts MATCH ?{state} ORDER BY bm25(kb_fts), a.id LIMIT {limit}"
            ))
            .bind::<Text, _>(query)
            .load(c)?
        }
        DbConn::Postgresql(c) => {
            if text.trim().is_empty() {
                return Ok(Vec::new());
            }
            // `WORDS`: the query computed once per run, not once per row.
            let words = crate::search::WORDS;
            diesel::sql_query(format!(
                "SELECT a.id AS id FROM kb_articles a \
                 WHERE a.search_tsv @@ {words}{state} \
                 ORDER BY ts_rank(a.search_tsv, {words}) DESC, a.id LIMIT {limit}"
            ))
            .bind::<Text, _>(text.to_string())
            .load(c)?
        }
    };
    let ids: Vec<i64> = hits.iter().map(|h| h.id).collect();
    let mut found: Vec<Article> = kb_articles::table
        .filter(kb_articles::id.eq_any(&ids))
        .load(conn)?;
    found.sort_by_key(|a| ids.iter().position(|&id| id == a.id));
    Ok(found)
}
