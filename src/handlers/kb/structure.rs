//! Categories and sections: create, rename, move, delete, through the knowledge-base service; a refusal shows the categories page with its message.

use super::*;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MoveForm {
    pub direction: String,
}

pub(super) async fn move_item(
    current: &CurrentUser,
    state: &AppState,
    what: Movable,
    id: i64,
    direction: &str,
) -> AppResult<()> {
    let (actor, up) = (current.actor.clone(), direction == "up");
    state
        .db(move |conn| {
            Ok(write_transaction(conn, |conn| {
                kb_service::move_item(conn, &actor, what, id, up)
            })?)
        })
        .await?;
    Ok(())
}

pub async fn move_article(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<MoveForm>,
) -> AppResult<HttpResponse> {
    move_item(&current, &state, Movable::Article, *id, &form.direction).await?;
    Ok(redirect("/kb/categories"))
}

#[derive(Template)]
#[template(path = "pages/kb_categories.html")]
pub(super) struct CategoriesPage {
    pub(super) ctx: Ctx,
    pub(super) tree: Vec<CategoryNode>,
    pub(super) error: Option<&'static str>,
    pub(super) notice: Option<&'static str>,
}

impl CategoriesPage {
    fn is_id(&self, value: &i64, id: &i64) -> bool {
        value == id
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CategoriesQuery {
    pub notice: String,
}

pub(super) async fn categories_page(
    current: &CurrentUser,
    state: &AppState,
    error: Option<&'static str>,
    notice: Option<&'static str>,
) -> AppResult<HttpResponse> {
    let (categories, sections, articles) = state
        .db(|conn| Ok((kb::categories(conn)?, kb::sections(conn)?, kb::all(conn)?)))
        .await?;
    let roots: Vec<Article> = articles
        .into_iter()
        .filter(|a| a.translation_of.is_none())
        .collect();
    html_with_status(
        &CategoriesPage {
            ctx: Ctx::for_user(current, "kb"),
            tree: tree(categories, &sections, &roots),
            error,
            notice,
        },
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
    )
}

pub async fn categories(
    current: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<CategoriesQuery>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::KbManageCategories)?;
    let notice = match query.notice.as_str() {
        "saved" => Some("kb.notice.structure_saved"),
        _ => None,
    };
    categories_page(&current, &state, None, notice).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NameForm {
    pub name: String,
    pub description: String,
    pub category: String,
}

pub(super) fn saved() -> HttpResponse {
    redirect("/kb/categories?notice=saved")
}

/// The categories page again with the first problem's message.
pub(super) async fn refused(
    current: &CurrentUser,
    state: &AppState,
    fields: crate::services::Fields,
) -> AppResult<HttpResponse> {
    let key = fields.0.first().map(|(_, problem)| problem.key());
    categories_page(current, state, key, None).await
}

pub async fn create_category(
    current: CurrentUser,
    state: web::Data<AppState>,
    form: web::Form<NameForm>,
) -> AppResult<HttpResponse> {
    let (actor, now, form) = (current.actor.clone(), state.clock.now(), form.into_inner());
    let written = write(&state, move |conn| {
        kb_service::create_category(conn, &actor, &form.name, &form.description, now)
    })
    .await?;
    match written {
        Ok(_) => Ok(saved()),
        Err(fields) => refused(&current, &state, fields).await,
    }
}

pub async fn update_category(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<NameForm>,
) -> AppResult<HttpResponse> {
    let (actor, id, form) = (current.actor.clone(), *id, form.into_inner());
    let written = write(&state, move |conn| {
        kb_service::update_category(conn, &actor, id, &form.name, &form.description)
    })
    .await?;
    match written {
        Ok(()) => Ok(saved()),
        Err(fields) => refused(&current, &state, fields).await,
    }
}

pub async fn move_category(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<MoveForm>,
) -> AppResult<HttpResponse> {
    move_item(&current, &state, Movable::Category, *id, &form.direction).await?;
    Ok(saved())
}

pub async fn delete_category(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let (actor, id) = (current.actor.clone(), *id);
    match write(&state, move |conn| {
        kb_service::delete_category(conn, &actor, id)
    })
    .await?
    {
        Ok(()) => Ok(saved()),
        Err(fields) => refused(&current, &state, fields).await,
    }
}

pub async fn create_section(
    current: CurrentUser,
    state: web::Data<AppState>,
    form: web::Form<NameForm>,
) -> AppResult<HttpResponse> {
    let (actor, now, form) = (current.actor.clone(), state.clock.now(), form.into_inner());
    let written = write(&state, move |conn| {
        kb_service::create_section(conn, &actor, form.category.parse().ok(), &form.name, now)
    })
    .await?;
    match written {
        Ok(_) => Ok(saved()),
        Err(fields) => refused(&current, &state, fields).await,
    }
}

pub async fn update_section(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<NameForm>,
) -> AppResult<HttpResponse> {
    let (actor, id, form) = (current.actor.clone(), *id, form.into_inner());
    let written = write(&state, move |conn| {
        kb_service::update_section(conn, &actor, id, form.category.parse().ok(), &form.name)
    })
    .await?;
    match written {
        Ok(()) => Ok(saved()),
        Err(fields) => refused(&current, &state, fields).await,
    }
}

pub async fn move_section(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<MoveForm>,
) -> AppResult<HttpResponse> {
    move_item(&current, &state, Movable::Section, *id, &form.direction).await?;
    Ok(saved())
}

pub async fn delete_section(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let (actor, id) = (current.actor.clone(), *id);
    match write(&state, move |conn| {
        kb_service::delete_section(conn, &actor, id)
    })
    .await?
    {
        Ok(()) => Ok(saved()),
        Err(fields) => refused(&current, &state, fields).await,
    }
}
