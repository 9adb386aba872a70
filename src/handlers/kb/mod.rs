//! The in-app knowledge base: the tree with drafts, article pages, the
//! editor, revisions with a diff, and managing categories and sections.
//! What each person may do is the policy's (`policy::article_flag`):
//! collaborators edit existing drafts and nothing else.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::db::write_transaction;
use crate::error::{AppError, AppResult};
use crate::forms::FieldErrors;
use crate::i18n::Lang;
use crate::models::kb::{self, Article, Category, Movable, Revision, Section};
use crate::pages::{Ctx, format_datetime, html_with_status};
use crate::policy::{self, Action, ArticleChange, Flag, article_flag};
use crate::services::kb as kb_service;
use crate::state::AppState;
use crate::web::redirect;
use crate::web::write;

mod articles;
mod structure;
pub use articles::*;
pub use structure::*;

fn allowed(current: &CurrentUser, flag: Flag) -> bool {
    policy::can(&current.actor, Action::Use(flag)).allowed
}

/// One article in the tree.
pub struct ArticleLink {
    pub id: i64,
    pub title: String,
    pub language: String,
    pub published: bool,
    pub translation: bool,
}

pub struct SectionNode {
    pub section: Section,
    pub articles: Vec<ArticleLink>,
}

pub struct CategoryNode {
    pub category: Category,
    pub sections: Vec<SectionNode>,
}

fn link(a: &Article) -> ArticleLink {
    ArticleLink {
        id: a.id,
        title: a.title.clone(),
        language: a.language.clone(),
        published: a.is_published(),
        translation: a.translation_of.is_some(),
    }
}

/// The whole tree, articles under their sections.
pub fn tree(
    categories: Vec<Category>,
    sections: &[Section],
    articles: &[Article],
) -> Vec<CategoryNode> {
    categories
        .into_iter()
        .map(|category| CategoryNode {
            sections: sections
                .iter()
                .filter(|s| s.category_id == category.id)
                .map(|s| SectionNode {
                    section: s.clone(),
                    articles: articles
                        .iter()
                        .filter(|a| a.section_id == s.id)
                        .map(link)
                        .collect(),
                })
                .collect(),
            category,
        })
        .collect()
}
