//! Knowledge-base articles, as the in-app knowledge base shows them.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiError, ApiResult, ApiUser, page_limit, time};
use crate::models::kb::{self, Article};
use crate::policy::{Action, Flag};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct ArticleOut {
    pub id: i64,
    pub section_id: i64,
    /// The article this one translates, if any.
    pub translation_of: Option<i64>,
    pub language: String,
    pub title: String,
    pub slug: String,
    /// Markdown.
    pub body: String,
    /// `draft` or `published`.
    pub state: String,
    /// The public help-center address, for published articles.
    pub public_path: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct ArticleList {
    pub data: Vec<ArticleOut>,
}

fn out(a: Article) -> ArticleOut {
    ArticleOut {
        public_path: a.is_published().then(|| a.public_path()),
        id: a.id,
        section_id: a.section_id,
        translation_of: a.translation_of,
        language: a.language,
        title: a.title,
        slug: a.slug,
        body: a.body,
        state: a.state,
        created_at: time(a.created_at),
        updated_at: time(a.updated_at),
        published_at: a.published_at.map(time),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArticleQuery {
    /// Full-text search; without it, every article in the order of the knowledge base.
    #[param(max_length = 500)]
    pub q: Option<String>,
    /// `draft` or `published`.
    #[param(inline, value_type = Option<super::values::ArticleState>)]
    pub state: Option<String>,
    /// 1–100, default 50 (with `q`).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/kb/articles", tag = "knowledge base", params(ArticleQuery),
    responses((status = 200, body = ArticleList)))]
pub async fn list(
    api: ApiUser,
    state: web::Data<AppState>,
    query: web::Query<ArticleQuery>,
) -> ApiResult<HttpResponse> {
    api.ensure(Action::Use(Flag::KbView))?;
    let q = query.into_inner();
    if let Some(s) = &q.state
        && s != "draft"
        && s != "published"
    {
        return Err(ApiError::bad_request(
            "invalid_state",
            "`state` must be draft or published.",
        ));
    }
    let limit = page_limit(q.limit)?;
    let articles = super::db(&state, move |conn| {
        Ok(match q.q.as_deref().filter(|t| !t.trim().is_empty()) {
            Some(text) => kb::search(conn, text, false, limit)?,
            None => kb::all(conn)?,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(ArticleList {
        data: articles
            .into_iter()
            .filter(|a| q.state.as_ref().is_none_or(|s| *s == a.state))
            .map(out)
            .collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/kb/articles/{id}", tag = "knowledge base",
    params(("id" = i64, Path)), responses((status = 200, body = ArticleOut)))]
pub async fn show(
    api: ApiUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    api.ensure(Action::Use(Flag::KbView))?;
    let id = *id;
    let article = super::db(&state, move |conn| {
        kb::find(conn, id)?.ok_or_else(ApiError::not_found)
    })
    .await?;
    Ok(HttpResponse::Ok().json(out(article)))
}
