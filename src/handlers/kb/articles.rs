//! Articles: the in-app tree and search, an article with its translations, the form, publish, delete and revisions with their diff. Every write goes through the knowledge-base service.

use super::*;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct KbQuery {
    pub q: String,
    pub notice: String,
}

#[derive(Template)]
#[template(path = "pages/kb.html")]
pub(super) struct KbPage {
    pub(super) ctx: Ctx,
    pub(super) tree: Vec<CategoryNode>,
    pub(super) q: String,
    pub(super) results: Option<Vec<ArticleLink>>,
    pub(super) can_create: bool,
    pub(super) can_manage: bool,
    pub(super) notice: Option<&'static str>,
}

pub async fn index(
    current: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<KbQuery>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::KbView)?;
    let q = query.q.trim().to_string();
    let text = q.clone();
    let (categories, sections, articles, results) = state
        .db(move |conn| {
            let results = if text.is_empty() {
                None
            } else {
                Some(kb::search(conn, &text, false, 50)?)
            };
            Ok((
                kb::categories(conn)?,
                kb::sections(conn)?,
                kb::all(conn)?,
                results,
            ))
        })
        .await?;
    html_with_status(
        &KbPage {
            ctx: Ctx::for_user(&current, "kb"),
            tree: tree(categories, &sections, &articles),
            q,
            results: results.map(|r| r.iter().map(link).collect()),
            can_create: allowed(&current, Flag::KbCreate),
            can_manage: allowed(&current, Flag::KbManageCategories),
            notice: match query.notice.as_str() {
                "deleted" => Some("kb.notice.deleted"),
                _ => None,
            },
        },
        StatusCode::OK,
    )
}

/// Published articles matching `q`, as `[{title, url}]` for the reply
/// composer's "insert a link".
pub async fn links(
    current: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<KbQuery>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::KbView)?;
    let text = query.q.clone();
    let found = state
        .db(move |conn| Ok(kb::search(conn, &text, true, 10)?))
        .await?;
    let base = &state.config.public_url;
    let items: Vec<serde_json::Value> = found
        .iter()
        .map(|a| {
            serde_json::json!({
                "title": a.title,
                "url": format!("{base}{}", a.public_path()),
                "language": a.language,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(items))
}

#[derive(Template)]
#[template(path = "pages/kb_article.html")]
pub(super) struct ArticlePage {
    pub(super) ctx: Ctx,
    pub(super) article: Article,
    pub(super) html: String,
    pub(super) section: String,
    pub(super) category: String,
    pub(super) author: String,
    pub(super) editor: String,
    pub(super) updated: String,
    pub(super) public_url: Option<String>,
    pub(super) translations: Vec<ArticleLink>,
    pub(super) missing_languages: Vec<(&'static str, &'static str)>,
    pub(super) can_edit: bool,
    pub(super) can_publish: bool,
    pub(super) can_delete: bool,
    pub(super) can_translate: bool,
    pub(super) notice: Option<&'static str>,
}

pub(super) async fn load_article(state: &AppState, id: i64) -> AppResult<Article> {
    state
        .db(move |conn| kb::find(conn, id)?.ok_or(AppError::NotFound))
        .await
}

pub async fn show(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<KbQuery>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::KbView)?;
    let article = load_article(&state, *id).await?;
    let (section_id, group, author_id, editor_id) = (
        article.section_id,
        article.group_id(),
        article.author_id,
        article.editor_id,
    );
    let (section, category, translations, author, editor) = state
        .db(move |conn| {
            let section = kb::find_section(conn, section_id)?.ok_or(AppError::NotFound)?;
            let category =
                kb::find_category(conn, section.category_id)?.ok_or(AppError::NotFound)?;
            Ok((
                section,
                category,
                kb::translations(conn, group)?,
                kb::user_name(conn, author_id)?,
                kb::user_name(conn, editor_id)?,
            ))
        })
        .await?;
    let published = article.is_published();
    let missing_languages = Lang::ALL
        .iter()
        .filter(|l| !translations.iter().any(|a| a.language == l.code()))
        .map(|l| (l.code(), l.native_name()))
        .collect();
    html_with_status(
        &ArticlePage {
            ctx: Ctx::for_user(&current, "kb"),
            html: crate::markdown::stored_or_render(article.body_html.as_deref(), &article.body),
            section: section.name,
            category: category.name,
            author: author.unwrap_or_default(),
            editor: editor.unwrap_or_default(),
            updated: format_datetime(article.updated_at, current.tz, current.tr),
            public_url: published
                .then(|| format!("{}{}", state.config.public_url, article.public_path())),
            translations: translations
                .iter()
                .filter(|a| a.id != article.id)
                .map(link)
                .collect(),
            missing_languages,
            can_edit: allowed(&current, article_flag(ArticleChange::Edit, published)),
            can_publish: allowed(&current, Flag::KbPublish),
            can_delete: allowed(&current, article_flag(ArticleChange::Delete, published)),
            can_translate: allowed(&current, Flag::KbCreate),
            notice: match query.notice.as_str() {
                "saved" => Some("kb.notice.saved"),
                "published" => Some("kb.notice.published"),
                "unpublished" => Some("kb.notice.unpublished"),
                "created" => Some("kb.notice.created"),
                _ => None,
            },
            article,
        },
        StatusCode::OK,
    )
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct ArticleForm {
    pub section: String,
    pub language: String,
    pub title: String,
    pub body: String,
    pub translation_of: String,
}

#[derive(Template)]
#[template(path = "pages/kb_article_form.html")]
pub(super) struct ArticleFormPage {
    pub(super) ctx: Ctx,
    /// `None` for a new article.
    pub(super) id: Option<i64>,
    pub(super) form: ArticleForm,
    pub(super) sections: Vec<(i64, String)>,
    pub(super) languages: Vec<(&'static str, &'static str)>,
    pub(super) errors: FieldErrors,
}

impl ArticleFormPage {
    fn is(&self, value: &str, option: &str) -> bool {
        value == option
    }

    fn is_id(&self, value: &str, id: &i64) -> bool {
        value == id.to_string()
    }
}

pub(super) async fn form_page(
    current: &CurrentUser,
    state: &AppState,
    id: Option<i64>,
    form: ArticleForm,
    errors: FieldErrors,
) -> AppResult<HttpResponse> {
    let (categories, sections) = state
        .db(|conn| Ok((kb::categories(conn)?, kb::sections(conn)?)))
        .await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    html_with_status(
        &ArticleFormPage {
            ctx: Ctx::for_user(current, "kb"),
            id,
            form,
            sections: sections
                .iter()
                .map(|s| {
                    let category = categories
                        .iter()
                        .find(|c| c.id == s.category_id)
                        .map(|c| c.name.as_str())
                        .unwrap_or_default();
                    (s.id, format!("{category} › {}", s.name))
                })
                .collect(),
            languages: Lang::ALL
                .iter()
                .map(|l| (l.code(), l.native_name()))
                .collect(),
            errors,
        },
        status,
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewQuery {
    pub translation_of: String,
    pub language: String,
}

pub async fn new(
    current: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<NewQuery>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::KbCreate)?;
    let mut form = ArticleForm {
        language: current.tr.code().to_string(),
        ..ArticleForm::default()
    };
    // A translation starts as a copy of its original.
    if let Ok(original) = query.translation_of.parse::<i64>() {
        let original = load_article(&state, original).await?;
        let root = original.group_id();
        form = ArticleForm {
            section: original.section_id.to_string(),
            language: query.language.clone(),
            title: original.title,
            body: original.body,
            translation_of: root.to_string(),
        };
    }
    form_page(&current, &state, None, form, FieldErrors::default()).await
}

pub async fn create(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    form: web::Form<ArticleForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let who = current.caller(&state, &req);
    let f = form.clone();
    let written = write(&state, move |conn| {
        let editor = who.author();
        let input = kb_service::ArticleInput {
            section_id: f.section.parse().ok(),
            language: &f.language,
            title: &f.title,
            body: &f.body,
        };
        kb_service::create(
            conn,
            &editor,
            &input,
            f.translation_of.parse().ok(),
            who.now,
        )
    })
    .await?;
    match written {
        Ok(id) => Ok(redirect(&format!("/kb/articles/{id}?notice=created"))),
        Err(fields) => form_page(&current, &state, None, form, fields.messages(current.tr)).await,
    }
}

pub async fn edit(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let article = load_article(&state, *id).await?;
    current.ensure(article_flag(ArticleChange::Edit, article.is_published()))?;
    let form = ArticleForm {
        section: article.section_id.to_string(),
        language: article.language.clone(),
        title: article.title.clone(),
        body: article.body.clone(),
        translation_of: String::new(),
    };
    form_page(
        &current,
        &state,
        Some(article.id),
        form,
        FieldErrors::default(),
    )
    .await
}

pub async fn update(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<ArticleForm>,
) -> AppResult<HttpResponse> {
    let article = load_article(&state, *id).await?;
    // A collaborator may save a draft, never a published article.
    current.ensure(article_flag(ArticleChange::Edit, article.is_published()))?;
    let mut form = form.into_inner();
    form.language = article.language.clone();
    // Translations stay in their original's section.
    if article.translation_of.is_some() {
        form.section = article.section_id.to_string();
    }
    let who = current.caller(&state, &req);
    let (f, id) = (form.clone(), article.id);
    let written = write(&state, move |conn| {
        let editor = who.author();
        let input = kb_service::ArticleInput {
            section_id: f.section.parse().ok(),
            language: &f.language,
            title: &f.title,
            body: &f.body,
        };
        kb_service::update(conn, &editor, id, &input, who.now)
    })
    .await?;
    match written {
        Ok(()) => Ok(redirect(&format!("/kb/articles/{id}?notice=saved"))),
        Err(fields) => {
            let errors = fields.messages(current.tr);
            form_page(&current, &state, Some(id), form, errors).await
        }
    }
}

pub(super) async fn change_state(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    id: i64,
    publish: bool,
) -> AppResult<HttpResponse> {
    let who = current.caller(&state, &req);
    state
        .db(move |conn| {
            let editor = who.author();
            Ok(write_transaction(conn, |conn| {
                kb_service::set_published(conn, &editor, id, publish, who.now)
            })?)
        })
        .await?;
    let notice = if publish { "published" } else { "unpublished" };
    Ok(redirect(&format!("/kb/articles/{id}?notice={notice}")))
}

pub async fn publish(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    change_state(req, current, state, *id, true).await
}

pub async fn unpublish(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    change_state(req, current, state, *id, false).await
}

pub async fn delete(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let (actor, id) = (current.actor.clone(), *id);
    state
        .db(move |conn| Ok(kb_service::delete(conn, &actor, id)?))
        .await?;
    Ok(redirect("/kb?notice=deleted"))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DiffQuery {
    pub from: Option<i64>,
    pub to: Option<i64>,
}

pub struct DiffLine {
    /// `add`, `del` or `same`.
    pub kind: &'static str,
    pub text: String,
}

pub struct RevisionRow {
    pub id: i64,
    pub number: usize,
    pub when: String,
    pub editor: String,
    pub state_label: &'static str,
    pub title: String,
}

#[derive(Template)]
#[template(path = "pages/kb_revisions.html")]
pub(super) struct RevisionsPage {
    pub(super) ctx: Ctx,
    pub(super) article: Article,
    pub(super) rows: Vec<RevisionRow>,
    pub(super) from: i64,
    pub(super) to: i64,
    pub(super) diff: Vec<DiffLine>,
    pub(super) compared: Option<(usize, usize)>,
}

/// A line diff of two revisions (title first, then the body).
pub fn diff(old: &Revision, new: &Revision) -> Vec<DiffLine> {
    let before = format!("# {}\n\n{}", old.title, old.body);
    let after = format!("# {}\n\n{}", new.title, new.body);
    similar::TextDiff::from_lines(&before, &after)
        .iter_all_changes()
        .map(|change| DiffLine {
            kind: match change.tag() {
                similar::ChangeTag::Insert => "add",
                similar::ChangeTag::Delete => "del",
                similar::ChangeTag::Equal => "same",
            },
            text: change.value().trim_end_matches('\n').to_string(),
        })
        .collect()
}

pub async fn revisions(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<DiffQuery>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::KbView)?;
    let article = load_article(&state, *id).await?;
    let article_id = article.id;
    let list = state
        .db(move |conn| Ok(kb::revisions(conn, article_id)?))
        .await?;
    let t = current.tr;
    let count = list.len();
    // Numbered oldest = 1; the list shows the newest first.
    let number_of = |id: i64| list.iter().position(|r| r.id == id).map(|i| count - i);
    let to = query.to.or(list.first().map(|r| r.id)).unwrap_or_default();
    let from = query.from.or(list.get(1).map(|r| r.id)).unwrap_or(to);
    let (old, new) = (
        list.iter().find(|r| r.id == from),
        list.iter().find(|r| r.id == to),
    );
    let (diff_lines, compared) = match (old, new) {
        (Some(old), Some(new)) if old.id != new.id => {
            (diff(old, new), number_of(old.id).zip(number_of(new.id)))
        }
        _ => (Vec::new(), None),
    };
    let rows = list
        .iter()
        .enumerate()
        .map(|(i, r)| RevisionRow {
            id: r.id,
            number: count - i,
            when: format_datetime(r.created_at, current.tz, current.tr),
            editor: r.editor_name.clone(),
            state_label: t.get(&format!("kb.state.{}", r.state)),
            title: r.title.clone(),
        })
        .collect();
    html_with_status(
        &RevisionsPage {
            ctx: Ctx::for_user(&current, "kb"),
            article,
            rows,
            from,
            to,
            diff: diff_lines,
            compared,
        },
        StatusCode::OK,
    )
}

// --- Categories and sections --------------------------------------------
