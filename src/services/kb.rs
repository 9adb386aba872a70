//! Knowledge-base writes: articles (create, edit, publish, delete) and the
//! structure (categories, sections, their order). Each asks `policy` — an
//! article's edit or delete by its state (`article_flag`: collaborators save
//! drafts only), the structure `kb.manage_categories` — and checks its
//! fields, in the caller's transaction.

use chrono::NaiveDateTime;

use super::{Fields, Problem, Refusal};
use crate::db::DbConn;
use crate::i18n::Lang;
use crate::models::kb::{self, Article, Movable};
use crate::policy::{self, Action, Actor, ArticleChange, Flag, article_flag};

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_BODY_CHARS: usize = 200_000;
pub const MAX_NAME_CHARS: usize = 120;

const NO_SECTION: Problem = Problem::Rule {
    key: "kb.error.section",
    english: "choose a section",
};

fn allow(actor: &Actor, flag: Flag) -> Result<(), Refusal> {
    Ok(policy::ensure(actor, Action::Use(flag))?)
}

/// Who writes an article, as its revisions name them.
pub use super::messages::Author as Editor;

/// An article as the form describes it (fields `section`, `language`,
/// `title`, `body`). `section` is `None` when none was chosen.
pub struct ArticleInput<'a> {
    pub section_id: Option<i64>,
    pub language: &'a str,
    pub title: &'a str,
    pub body: &'a str,
}

/// The text's problems (the same for a new and an edited article).
pub fn text_problems(input: &ArticleInput) -> Fields {
    let mut fields = Fields::default();
    fields.text("title", input.title, MAX_TITLE_CHARS);
    fields.text("body", input.body, MAX_BODY_CHARS);
    fields
}

/// A new article, or a translation of `translation_of`'s group.
pub fn create(
    conn: &mut DbConn,
    editor: &Editor,
    input: &ArticleInput,
    translation_of: Option<i64>,
    now: NaiveDateTime,
) -> Result<i64, Refusal> {
    allow(editor.actor, Flag::KbCreate)?;
    let mut fields = text_problems(input);
    if Lang::parse(input.language).is_none() {
        fields.add("language", Problem::Language);
    }
    let section = match input.section_id {
        Some(id) => kb::find_section(conn, id)?,
        None => None,
    };
    if section.is_none() {
        fields.add("section", NO_SECTION);
    }
    if let Some(group) = translation_of
        && kb::translations(conn, group)?
            .iter()
            .any(|a| a.language == input.language)
    {
        fields.add(
            "language",
            Problem::Taken {
                key: "kb.error.language_taken",
                english: "the article exists in this language",
            },
        );
    }
    super::check(fields)?;
    let section_id = section.map(|s| s.id).ok_or(Refusal::NotFound)?;
    Ok(kb::create(
        conn,
        &kb::NewArticle {
            section_id,
            translation_of,
            language: input.language,
            title: input.title.trim(),
            body: input.body,
            author_id: editor.actor.user_id,
            author_name: editor.name,
        },
        now,
    )?)
}

/// The article, if `change` of it is the actor's to make.
pub fn changeable(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    change: ArticleChange,
) -> Result<Article, Refusal> {
    let article = kb::find(conn, id)?.ok_or(Refusal::NotFound)?;
    allow(actor, article_flag(change, article.is_published()))?;
    Ok(article)
}

/// Saves an article's title, body and section (a translation stays in its
/// original's section; the language never changes). A collaborator saves
/// drafts only.
pub fn update(
    conn: &mut DbConn,
    editor: &Editor,
    id: i64,
    input: &ArticleInput,
    now: NaiveDateTime,
) -> Result<(), Refusal> {
    let article = changeable(conn, editor.actor, id, ArticleChange::Edit)?;
    let section_id = if article.translation_of.is_some() {
        Some(article.section_id)
    } else {
        input.section_id
    };
    let mut fields = text_problems(input);
    if section_id.is_none() {
        fields.add("section", NO_SECTION);
    }
    super::check(fields)?;
    let section_id = section_id.ok_or(Refusal::NotFound)?;
    if kb::find_section(conn, section_id)?.is_none() {
        return Err(Refusal::NotFound);
    }
    Ok(kb::update(
        conn,
        article.id,
        section_id,
        input.title.trim(),
        input.body,
        (editor.actor.user_id, editor.name),
        now,
    )?)
}

pub fn set_published(
    conn: &mut DbConn,
    editor: &Editor,
    id: i64,
    publish: bool,
    now: NaiveDateTime,
) -> Result<(), Refusal> {
    allow(editor.actor, Flag::KbPublish)?;
    let article = kb::find(conn, id)?.ok_or(Refusal::NotFound)?;
    Ok(kb::set_state(
        conn,
        article.id,
        publish,
        (editor.actor.user_id, editor.name),
        now,
    )?)
}

pub fn delete(conn: &mut DbConn, actor: &Actor, id: i64) -> Result<(), Refusal> {
    // Checked before anything is read, so refusals look the same for all.
    allow(actor, Flag::KbCreate)?;
    let article = changeable(conn, actor, id, ArticleChange::Delete)?;
    Ok(kb::delete(conn, article.id)?)
}

/// Moves a category, section or article one place up or down.
pub fn move_item(
    conn: &mut DbConn,
    actor: &Actor,
    what: Movable,
    id: i64,
    up: bool,
) -> Result<(), Refusal> {
    allow(actor, Flag::KbManageCategories)?;
    kb::move_item(conn, what, id, up)?;
    Ok(())
}

const BAD_NAME: Problem = Problem::Rule {
    key: "kb.error.name",
    english: "a name of 1 to 120 characters",
};

fn name_problems(name: &str) -> Fields {
    let mut fields = Fields::default();
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        fields.add("name", BAD_NAME);
    }
    fields
}

pub fn create_category(
    conn: &mut DbConn,
    actor: &Actor,
    name: &str,
    description: &str,
    now: NaiveDateTime,
) -> Result<i64, Refusal> {
    allow(actor, Flag::KbManageCategories)?;
    super::check(name_problems(name))?;
    Ok(kb::create_category(
        conn,
        name.trim(),
        description.trim(),
        now,
    )?)
}

pub fn update_category(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    name: &str,
    description: &str,
) -> Result<(), Refusal> {
    allow(actor, Flag::KbManageCategories)?;
    super::check(name_problems(name))?;
    match kb::update_category(conn, id, name.trim(), description.trim())? {
        0 => Err(Refusal::NotFound),
        _ => Ok(()),
    }
}

/// Refused while the category has sections.
pub fn delete_category(conn: &mut DbConn, actor: &Actor, id: i64) -> Result<(), Refusal> {
    allow(actor, Flag::KbManageCategories)?;
    if kb::delete_category(conn, id)? {
        return Ok(());
    }
    let mut fields = Fields::default();
    fields.add(
        "category",
        Problem::Rule {
            key: "kb.error.category_not_empty",
            english: "the category has sections",
        },
    );
    Err(Refusal::Fields(fields))
}

/// A section in `category` (field `category` when it names none).
fn section_problems(
    conn: &mut DbConn,
    category: Option<i64>,
    name: &str,
) -> Result<Fields, Refusal> {
    let mut fields = name_problems(name);
    let found = match category {
        Some(id) => kb::find_category(conn, id)?.is_some(),
        None => false,
    };
    if !found {
        fields.add("category", NO_SECTION);
    }
    Ok(fields)
}

pub fn create_section(
    conn: &mut DbConn,
    actor: &Actor,
    category: Option<i64>,
    name: &str,
    now: NaiveDateTime,
) -> Result<i64, Refusal> {
    allow(actor, Flag::KbManageCategories)?;
    super::check(section_problems(conn, category, name)?)?;
    let category = category.ok_or(Refusal::NotFound)?;
    Ok(kb::create_section(conn, category, name.trim(), now)?)
}

pub fn update_section(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    category: Option<i64>,
    name: &str,
) -> Result<(), Refusal> {
    allow(actor, Flag::KbManageCategories)?;
    let mut fields = name_problems(name);
    if category.is_none() && fields.is_empty() {
        fields.add("name", BAD_NAME);
    }
    super::check(fields)?;
    let category = category.ok_or(Refusal::NotFound)?;
    if kb::find_category(conn, category)?.is_none() {
        return Err(Refusal::NotFound);
    }
    match kb::update_section(conn, id, category, name.trim())? {
        0 => Err(Refusal::NotFound),
        _ => Ok(()),
    }
}

/// Refused while the section has articles.
pub fn delete_section(conn: &mut DbConn, actor: &Actor, id: i64) -> Result<(), Refusal> {
    allow(actor, Flag::KbManageCategories)?;
    if kb::delete_section(conn, id)? {
        return Ok(());
    }
    let mut fields = Fields::default();
    fields.add(
        "section",
        Problem::Rule {
            key: "kb.error.section_not_empty",
            english: "the section has articles",
        },
    );
    Err(Refusal::Fields(fields))
}
