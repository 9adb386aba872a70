//! The public help center (`/help`, no sign-in): categories, sections,
//! articles in the visitor's language when there is a version in it, search
//! with the database's full-text engine, and a sitemap. Only published
//! articles exist here: a draft's URL is a 404 like any unknown one.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use crate::models::kb::{self, Article, Category, Section};
use crate::models::org::OrgSettings;
use crate::pages::{Ctx, html_with_status};
use crate::state::AppState;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct HelpQuery {
    pub lang: String,
    pub q: String,
}

/// `?lang=` first, then the visitor's session or browser language.
fn language(req: &HttpRequest, query: &HelpQuery) -> Lang {
    Lang::parse(&query.lang).unwrap_or_else(|| crate::auth::visitor_lang(req))
}

async fn ctx(req: &HttpRequest, state: &AppState, lang: Lang) -> AppResult<Ctx> {
    let org = state
        .db(|conn| OrgSettings::find(conn)?.ok_or(AppError::NotFound))
        .await?;
    let mut ctx = Ctx::for_visitor(req, org.name);
    ctx.t = crate::i18n::Tr::new(lang);
    Ok(ctx)
}

/// What the head of every help page carries for search engines.
pub struct Seo {
    pub canonical: String,
    pub description: String,
    /// (language, URL) of the other versions of this page.
    pub alternates: Vec<(String, String)>,
}

pub struct SectionList {
    pub section: Section,
    pub articles: Vec<Article>,
}

pub struct CategoryList {
    pub category: Category,
    pub sections: Vec<SectionList>,
}

#[derive(Template)]
#[template(path = "pages/help_home.html")]
struct HomePage {
    ctx: Ctx,
    seo: Seo,
    lang: &'static str,
    categories: Vec<CategoryList>,
    q: String,
}

#[derive(Template)]
#[template(path = "pages/help_category.html")]
struct CategoryPage {
    ctx: Ctx,
    seo: Seo,
    lang: &'static str,
    category: CategoryList,
}

#[derive(Template)]
#[template(path = "pages/help_section.html")]
struct SectionPage {
    ctx: Ctx,
    seo: Seo,
    lang: &'static str,
    category: Category,
    section: SectionList,
}

#[derive(Template)]
#[template(path = "pages/help_article.html")]
struct ArticlePage {
    ctx: Ctx,
    seo: Seo,
    lang: &'static str,
    article: Article,
    html: String,
    category: Category,
    section: Section,
    other_languages: Vec<(String, String, String)>,
    updated: String,
}

#[derive(Template)]
#[template(path = "pages/help_search.html")]
struct SearchPage {
    ctx: Ctx,
    seo: Seo,
    lang: &'static str,
    q: String,
    results: Vec<(Article, String)>,
}

fn absolute(state: &AppState, path: &str) -> String {
    format!("{}{path}", state.config.public_url)
}

/// Plain text of an article's HTML, for meta descriptions and excerpts.
pub fn summary(html: &str, max: usize) -> String {
    let text = ammonia::Builder::empty().clean(html).to_string();
    let text = text
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'");
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut out = String::new();
    for word in words {
        if out.chars().count() + word.chars().count() + 1 > max {
            out.push('…');
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Every category with its sections and their published articles.
async fn load_tree(state: &AppState, lang: Lang) -> AppResult<Vec<CategoryList>> {
    state
        .db(move |conn| {
            let categories = kb::categories(conn)?;
            let sections = kb::sections(conn)?;
            let mut articles = kb::published_by_section(conn, lang.code())?;
            Ok(categories
                .into_iter()
                .map(|category| CategoryList {
                    sections: sections
                        .iter()
                        .filter(|s| s.category_id == category.id)
                        .map(|s| SectionList {
                            articles: articles.remove(&s.id).unwrap_or_default(),
                            section: s.clone(),
                        })
                        .collect(),
                    category,
                })
                .collect())
        })
        .await
}

fn language_alternates(state: &AppState, path: &str) -> Vec<(String, String)> {
    Lang::ALL
        .iter()
        .map(|l| {
            (
                l.code().to_string(),
                absolute(state, &format!("{path}?lang={}", l.code())),
            )
        })
        .collect()
}

pub async fn home(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<HelpQuery>,
) -> AppResult<HttpResponse> {
    let lang = language(&req, &query);
    let ctx = ctx(&req, &state, lang).await?;
    let categories = load_tree(&state, lang).await?;
    let seo = Seo {
        canonical: absolute(&state, "/help"),
        description: ctx.t.fmt("help.description", &[("org", &ctx.org_name)]),
        alternates: language_alternates(&state, "/help"),
    };
    html_with_status(
        &HomePage {
            ctx,
            seo,
            lang: lang.code(),
            // Empty categories and sections are not shown to visitors.
            categories: categories
                .into_iter()
                .map(|mut c| {
                    c.sections.retain(|s| !s.articles.is_empty());
                    c
                })
                .filter(|c| !c.sections.is_empty())
                .collect(),
            q: String::new(),
        },
        StatusCode::OK,
    )
}

pub async fn category(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<HelpQuery>,
) -> AppResult<HttpResponse> {
    let lang = language(&req, &query);
    let id = kb::id_of(&path).ok_or(AppError::NotFound)?;
    let ctx = ctx(&req, &state, lang).await?;
    let mut category = load_tree(&state, lang)
        .await?
        .into_iter()
        .find(|c| c.category.id == id)
        .ok_or(AppError::NotFound)?;
    category.sections.retain(|s| !s.articles.is_empty());
    let canonical = format!("/help/categories/{}-{}", id, category.category.slug);
    if path.as_str() != canonical.trim_start_matches("/help/categories/") {
        return Ok(moved(&canonical, &query));
    }
    let seo = Seo {
        canonical: absolute(&state, &canonical),
        description: if category.category.description.is_empty() {
            category.category.name.clone()
        } else {
            category.category.description.clone()
        },
        alternates: language_alternates(&state, &canonical),
    };
    html_with_status(
        &CategoryPage {
            ctx,
            seo,
            lang: lang.code(),
            category,
        },
        StatusCode::OK,
    )
}

/// A permanent redirect to the canonical address (an old slug).
fn moved(path: &str, query: &HelpQuery) -> HttpResponse {
    let location = if query.lang.is_empty() {
        path.to_string()
    } else {
        format!("{path}?lang={}", crate::urlencoded::url_encode(&query.lang))
    };
    HttpResponse::MovedPermanently()
        .insert_header((header::LOCATION, location))
        .finish()
}

pub async fn section(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<HelpQuery>,
) -> AppResult<HttpResponse> {
    let lang = language(&req, &query);
    let id = kb::id_of(&path).ok_or(AppError::NotFound)?;
    let ctx = ctx(&req, &state, lang).await?;
    let (category, section, articles) = state
        .db(move |conn| {
            let section = kb::find_section(conn, id)?.ok_or(AppError::NotFound)?;
            let category =
                kb::find_category(conn, section.category_id)?.ok_or(AppError::NotFound)?;
            let articles = kb::published_in_section(conn, id, lang.code())?;
            Ok((category, section, articles))
        })
        .await?;
    if articles.is_empty() {
        return Err(AppError::NotFound);
    }
    let canonical = format!("/help/sections/{}-{}", id, section.slug);
    if path.as_str() != canonical.trim_start_matches("/help/sections/") {
        return Ok(moved(&canonical, &query));
    }
    let seo = Seo {
        canonical: absolute(&state, &canonical),
        description: format!("{} › {}", category.name, section.name),
        alternates: language_alternates(&state, &canonical),
    };
    html_with_status(
        &SectionPage {
            ctx,
            seo,
            lang: lang.code(),
            category,
            section: SectionList { section, articles },
        },
        StatusCode::OK,
    )
}

pub async fn article(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<HelpQuery>,
) -> AppResult<HttpResponse> {
    let id = kb::id_of(&path).ok_or(AppError::NotFound)?;
    let (article, section, category, versions) = state
        .db(move |conn| {
            // Drafts are not found: the same 404 as a made-up address.
            let article = kb::find_published(conn, id)?.ok_or(AppError::NotFound)?;
            let section = kb::find_section(conn, article.section_id)?.ok_or(AppError::NotFound)?;
            let category =
                kb::find_category(conn, section.category_id)?.ok_or(AppError::NotFound)?;
            let versions: Vec<Article> = kb::translations(conn, article.group_id())?
                .into_iter()
                .filter(|a| a.is_published() && a.id != article.id)
                .collect();
            Ok((article, section, category, versions))
        })
        .await?;
    // The language switcher leads to the version in that language, if any.
    if let Some(other) = versions
        .iter()
        .find(|a| a.language == query.lang && a.language != article.language)
    {
        return Ok(HttpResponse::Found()
            .insert_header((header::LOCATION, other.public_path()))
            .finish());
    }
    let canonical = article.public_path();
    if path.as_str() != canonical.trim_start_matches("/help/articles/") {
        return Ok(moved(&canonical, &HelpQuery::default()));
    }
    // The page is in the article's language, whatever the browser says.
    let lang = Lang::parse(&article.language).unwrap_or_else(|| language(&req, &query));
    let ctx = ctx(&req, &state, lang).await?;
    let html = crate::markdown::stored_or_render(article.body_html.as_deref(), &article.body);
    let seo = Seo {
        canonical: absolute(&state, &canonical),
        description: summary(&html, 155),
        alternates: versions
            .iter()
            .map(|a| (a.language.clone(), absolute(&state, &a.public_path())))
            .collect(),
    };
    html_with_status(
        &ArticlePage {
            seo,
            lang: lang.code(),
            html,
            other_languages: versions
                .iter()
                .map(|a| {
                    (
                        a.language.clone(),
                        Lang::parse(&a.language)
                            .map(|l| l.native_name().to_string())
                            .unwrap_or_else(|| a.language.clone()),
                        a.public_path(),
                    )
                })
                .collect(),
            updated: article.updated_at.format("%Y-%m-%d").to_string(),
            ctx,
            article,
            category,
            section,
        },
        StatusCode::OK,
    )
}

pub async fn search(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<HelpQuery>,
) -> AppResult<HttpResponse> {
    let lang = language(&req, &query);
    let ctx = ctx(&req, &state, lang).await?;
    let text = query.q.trim().to_string();
    let found = {
        let text = text.clone();
        state
            .db(move |conn| Ok(kb::search(conn, &text, true, 30)?))
            .await?
    };
    let seo = Seo {
        canonical: absolute(&state, "/help/search"),
        description: ctx.t.fmt("help.description", &[("org", &ctx.org_name)]),
        alternates: Vec::new(),
    };
    html_with_status(
        &SearchPage {
            ctx,
            seo,
            lang: lang.code(),
            q: text,
            results: found
                .into_iter()
                .map(|a| {
                    let html = crate::markdown::stored_or_render(a.body_html.as_deref(), &a.body);
                    let excerpt = summary(&html, 200);
                    (a, excerpt)
                })
                .collect(),
        },
        StatusCode::OK,
    )
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `/help/sitemap.xml`: the help center, its categories and sections with
/// published articles, and every published article with its last change.
pub async fn sitemap(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let (categories, sections, articles) = state
        .db(|conn| {
            Ok((
                kb::categories(conn)?,
                kb::sections(conn)?,
                kb::all_published(conn)?,
            ))
        })
        .await?;
    let mut urls = vec![(absolute(&state, "/help"), None)];
    for section in &sections {
        if !articles.iter().any(|a| a.section_id == section.id) {
            continue;
        }
        if let Some(category) = categories.iter().find(|c| c.id == section.category_id) {
            let url = absolute(
                &state,
                &format!("/help/categories/{}-{}", category.id, category.slug),
            );
            if !urls.iter().any(|(u, _)| *u == url) {
                urls.push((url, None));
            }
        }
        urls.push((
            absolute(
                &state,
                &format!("/help/sections/{}-{}", section.id, section.slug),
            ),
            None,
        ));
    }
    for article in &articles {
        urls.push((
            absolute(&state, &article.public_path()),
            Some(article.updated_at.format("%Y-%m-%d").to_string()),
        ));
    }
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for (url, lastmod) in urls {
        xml.push_str(&format!("  <url><loc>{}</loc>", xml_escape(&url)));
        if let Some(day) = lastmod {
            xml.push_str(&format!("<lastmod>{day}</lastmod>"));
        }
        xml.push_str("</url>\n");
    }
    xml.push_str("</urlset>\n");
    Ok(HttpResponse::Ok()
        .content_type("application/xml; charset=utf-8")
        .body(xml))
}
