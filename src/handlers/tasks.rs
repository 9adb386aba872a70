//! Tasks: "My tasks", a task's page with comments, and the forms. Creating
//! and reassigning take `tasks.create` (never collaborators); commenting
//! takes `tasks.comment`; the assignee may mark their task done. Only tasks
//! the reader can see exist for them (404 otherwise).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use chrono::NaiveDate;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::db::write_transaction;
use crate::error::{AppError, AppResult};
use crate::forms::FieldErrors;
use crate::models::conversation::{self, Reader};
use crate::models::customer;
use crate::models::task::{self, Task, TaskLine, TaskList, TaskReader};
use crate::pages::{Badge, Ctx, format_datetime, html_with_status};
use crate::policy::{self, Action, ConversationScope, Flag, UserType};
use crate::services::{Refusal, tasks};
use crate::state::AppState;
use crate::web::NoticeQuery;
use crate::web::redirect;

fn allowed(current: &CurrentUser, flag: Flag) -> bool {
    policy::can(&current.actor, Action::Use(flag)).allowed
}

fn reader(current: &CurrentUser) -> TaskReader {
    TaskReader::for_actor(current.user.id, &current.actor)
}

/// A task in a list, ready to show.
pub struct TaskRow {
    pub id: i64,
    pub title: String,
    pub due: String,
    pub overdue: bool,
    pub done: bool,
    pub assignee: String,
    /// (link, label) of the conversation or customer.
    pub about: Option<(String, String)>,
}

/// Rows for lists and panels; overdue is judged in the reader's timezone,
/// and a conversation outside the reader's scope is not named.
pub fn rows(
    lines: Vec<TaskLine>,
    today: NaiveDate,
    scope: &ConversationScope,
    t: crate::i18n::Tr,
) -> Vec<TaskRow> {
    let sees = |l: &TaskLine, id: i64| {
        scope.includes(policy::Placement {
            id,
            team_id: l.conversation_team_id,
            customer_id: l.conversation_customer_id.unwrap_or_default(),
        })
    };
    lines
        .into_iter()
        .map(|l| TaskRow {
            overdue: l.status == "open" && l.due_on.is_some_and(|d| d < today),
            due: l
                .due_on
                .map(|d| crate::pages::format_date(d, t))
                .unwrap_or_default(),
            done: l.status == "done",
            about: match (l.conversation_id, l.customer_id) {
                (Some(id), _) if !sees(&l, id) => None,
                (Some(id), _) => l
                    .conversation_subject
                    .map(|subject| (format!("/conversations/{id}"), subject)),
                (_, Some(id)) => l
                    .customer_name
                    .map(|name| (format!("/customers/{id}"), name)),
                _ => None,
            },
            id: l.id,
            title: l.title,
            assignee: l.assignee_name,
        })
        .collect()
}

/// Today where the reader is.
pub fn today(current: &CurrentUser, state: &AppState) -> NaiveDate {
    state
        .clock
        .now()
        .and_utc()
        .with_timezone(&current.tz)
        .date_naive()
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    pub view: String,
}

#[derive(Template)]
#[template(path = "pages/tasks.html")]
struct TasksPage {
    ctx: Ctx,
    view: &'static str,
    rows: Vec<TaskRow>,
    can_create: bool,
}

pub async fn list(
    current: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::TasksView)?;
    let (view, which) = match query.view.as_str() {
        "created" => ("created", TaskList::Created),
        "done" => ("done", TaskList::Done),
        _ => ("mine", TaskList::Mine),
    };
    let reader = reader(&current);
    let lines = state
        .db(move |conn| Ok(task::list(conn, &reader, which, 200)?))
        .await?;
    let today = today(&current, &state);
    html_with_status(
        &TasksPage {
            ctx: Ctx::for_user(&current, "tasks"),
            view,
            rows: rows(
                lines,
                today,
                &policy::conversation_scope(&current.actor).0,
                current.tr,
            ),
            can_create: allowed(&current, Flag::TasksCreate),
        },
        StatusCode::OK,
    )
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct TaskForm {
    pub title: String,
    pub description: String,
    pub due_on: String,
    pub assignee: String,
    pub conversation: String,
    pub customer: String,
}

#[derive(Template)]
#[template(path = "pages/task_form.html")]
struct TaskFormPage {
    ctx: Ctx,
    form: TaskForm,
    about: Option<String>,
    people: Vec<(i64, String, bool)>,
    errors: FieldErrors,
}

impl TaskFormPage {
    fn is_id(&self, value: &str, id: &i64) -> bool {
        value == id.to_string()
    }
}

/// What a new task will be linked to, checked against what the reader may
/// see: (conversation, customer, label).
async fn link_target(
    current: &CurrentUser,
    state: &AppState,
    form: &TaskForm,
) -> AppResult<(Option<i64>, Option<i64>, Option<String>)> {
    let conversation_id = form.conversation.parse::<i64>().ok();
    let customer_id = form.customer.parse::<i64>().ok();
    let (scope, _) = policy::conversation_scope(&current.actor);
    let (user_id, team_ids) = (current.user.id, current.actor.team_ids.clone());
    let may_view_customers = allowed(current, Flag::CustomersView);
    state
        .db(move |conn| {
            if let Some(id) = conversation_id {
                let reader = Reader {
                    scope: &scope,
                    user_id,
                    team_ids: &team_ids,
                };
                let found =
                    conversation::find_visible(conn, &reader, id)?.ok_or(AppError::NotFound)?;
                return Ok((Some(found.id), None, Some(found.subject)));
            }
            if let Some(id) = customer_id {
                if !may_view_customers {
                    return Err(AppError::NotFound);
                }
                let found = customer::find(conn, id)?.ok_or(AppError::NotFound)?;
                return Ok((None, Some(found.id), Some(found.name)));
            }
            Ok((None, None, None))
        })
        .await
}

async fn form_page(
    current: &CurrentUser,
    state: &AppState,
    form: TaskForm,
    about: Option<String>,
    errors: FieldErrors,
) -> AppResult<HttpResponse> {
    let people = state
        .db(|conn| Ok(task::assignable(conn)?))
        .await?
        .into_iter()
        .map(|(id, name, kind)| (id, name, kind == UserType::Collaborator))
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    html_with_status(
        &TaskFormPage {
            ctx: Ctx::for_user(current, "tasks"),
            form,
            about,
            people,
            errors,
        },
        status,
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewQuery {
    pub conversation: String,
    pub customer: String,
}

pub async fn new(
    current: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<NewQuery>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::TasksCreate)?;
    let form = TaskForm {
        conversation: query.conversation.clone(),
        customer: query.customer.clone(),
        assignee: current.user.id.to_string(),
        ..TaskForm::default()
    };
    let (_, _, about) = link_target(&current, &state, &form).await?;
    form_page(&current, &state, form, about, FieldErrors::default()).await
}

/// Which write the task form asks for.
#[derive(Clone, Copy)]
enum Write {
    Create(tasks::Link),
    Update(i64),
}

/// Writes the task form through the task service: the task's id, or the
/// messages for the form (a date that cannot be read among them).
async fn write(
    current: &CurrentUser,
    state: &AppState,
    req: &HttpRequest,
    form: &TaskForm,
    what: Write,
) -> AppResult<Result<i64, FieldErrors>> {
    let t = current.tr;
    let due = form.due_on.trim().to_string();
    let due_on = NaiveDate::parse_from_str(&due, "%Y-%m-%d").ok();
    let due_unreadable = !due.is_empty() && due_on.is_none();
    let (who, form) = (current.caller(state, req), form.clone());
    let outcome = state
        .db(move |conn| {
            let input = tasks::TaskInput {
                title: &form.title,
                description: &form.description,
                due_on,
                assignee_id: form.assignee.parse().ok(),
            };
            if due_unreadable {
                return Ok(Err(tasks::problems(conn, &input)?));
            }
            let (ctx, author) = (who.ctx(), who.author());
            let written = write_transaction(conn, |conn| match what {
                Write::Create(link) => tasks::create(conn, &ctx, &author, &input, link),
                Write::Update(id) => tasks::update(conn, &ctx, &author, id, &input).map(|_| id),
            });
            match written {
                Ok(id) => Ok(Ok(id)),
                Err(Refusal::Fields(fields)) => Ok(Err(fields)),
                Err(other) => Err(other.into()),
            }
        })
        .await?;
    Ok(outcome.map_err(|fields| {
        let mut errors = fields.renamed(&[("assignee_id", "assignee")]).messages(t);
        if due_unreadable {
            errors.add("due_on", t.get("tasks.error.due"));
        }
        errors
    }))
}

pub async fn create(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    form: web::Form<TaskForm>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::TasksCreate)?;
    let form = form.into_inner();
    let (conversation_id, customer_id, about) = link_target(&current, &state, &form).await?;
    let link = tasks::Link {
        conversation_id,
        customer_id,
    };
    match write(&current, &state, &req, &form, Write::Create(link)).await? {
        Ok(id) => Ok(redirect(&format!("/tasks/{id}?notice=created"))),
        Err(errors) => form_page(&current, &state, form, about, errors).await,
    }
}

pub struct CommentRow {
    pub author: Badge,
    pub when: String,
    pub html: String,
}

#[derive(Template)]
#[template(path = "pages/task.html")]
struct TaskPage {
    ctx: Ctx,
    task: Task,
    html: String,
    assignee: String,
    creator: String,
    about: Option<(String, String)>,
    overdue: bool,
    /// The due day in the reader's language, or empty.
    due: String,
    comments: Vec<CommentRow>,
    comment: String,
    errors: FieldErrors,
    can_edit: bool,
    can_close: bool,
    can_comment: bool,
    form: TaskForm,
    people: Vec<(i64, String, bool)>,
    notice: Option<&'static str>,
}

impl TaskPage {
    fn is_id(&self, value: &str, id: &i64) -> bool {
        value == id.to_string()
    }
}

async fn load(current: &CurrentUser, state: &AppState, id: i64) -> AppResult<Task> {
    let reader = reader(current);
    state
        .db(move |conn| task::find_visible(conn, &reader, id)?.ok_or(AppError::NotFound))
        .await
}

async fn render(
    current: &CurrentUser,
    state: &AppState,
    task: Task,
    comment: String,
    errors: FieldErrors,
    notice: Option<&'static str>,
) -> AppResult<HttpResponse> {
    let (task_id, assignee_id, creator_id, conversation_id, customer_id) = (
        task.id,
        task.assignee_id,
        task.creator_id,
        task.conversation_id,
        task.customer_id,
    );
    let (scope, _) = policy::conversation_scope(&current.actor);
    let (user_id, team_ids) = (current.user.id, current.actor.team_ids.clone());
    let (comments, assignee, creator, about, people) = state
        .db(move |conn| {
            let reader = Reader {
                scope: &scope,
                user_id,
                team_ids: &team_ids,
            };
            let about = match (conversation_id, customer_id) {
                (Some(id), _) => conversation::find_visible(conn, &reader, id)?
                    .map(|c| (format!("/conversations/{id}"), c.subject)),
                (_, Some(id)) => {
                    customer::find(conn, id)?.map(|c| (format!("/customers/{id}"), c.name))
                }
                _ => None,
            };
            Ok((
                task::comments(conn, task_id)?,
                crate::models::kb::user_name(conn, Some(assignee_id))?,
                crate::models::kb::user_name(conn, creator_id)?,
                about,
                task::assignable(conn)?,
            ))
        })
        .await?;
    let today = today(current, state);
    let can_edit = allowed(current, Flag::TasksCreate);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    html_with_status(
        &TaskPage {
            ctx: Ctx::for_user(current, "tasks"),
            html: crate::markdown::stored_or_render(
                task.description_html.as_deref(),
                &task.description,
            ),
            assignee: assignee.unwrap_or_default(),
            creator: creator.unwrap_or_default(),
            about,
            overdue: task.is_overdue(today),
            due: task
                .due_on
                .map(|d| crate::pages::format_date(d, current.tr))
                .unwrap_or_default(),
            comments: comments
                .into_iter()
                .map(|c| CommentRow {
                    author: Badge::for_user(c.author_name.as_deref().unwrap_or("?"), c.author_type),
                    when: format_datetime(c.created_at, current.tz, current.tr),
                    html: crate::markdown::stored_or_render(c.body_html.as_deref(), &c.body),
                })
                .collect(),
            comment,
            errors,
            can_edit,
            can_close: can_edit || task.assignee_id == current.user.id,
            can_comment: allowed(current, Flag::TasksComment),
            form: TaskForm {
                title: task.title.clone(),
                description: task.description.clone(),
                due_on: task.due_on.map(|d| d.to_string()).unwrap_or_default(),
                assignee: task.assignee_id.to_string(),
                ..TaskForm::default()
            },
            people: people
                .into_iter()
                .map(|(id, name, kind)| (id, name, kind == UserType::Collaborator))
                .collect(),
            notice,
            task,
        },
        status,
    )
}

pub async fn show(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<NoticeQuery>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::TasksView)?;
    let task = load(&current, &state, *id).await?;
    let (user_id, task_id, now) = (current.user.id, task.id, state.clock.now());
    state
        .db(move |conn| {
            // Opening the task reads its notifications.
            crate::models::notification::mark_read(
                conn,
                user_id,
                None,
                Some(crate::models::notification::About::Task(task_id)),
                now,
            )?;
            Ok(())
        })
        .await?;
    let notice = match query.notice() {
        "created" => Some("tasks.notice.created"),
        "saved" => Some("tasks.notice.saved"),
        "commented" => Some("tasks.notice.commented"),
        "done" => Some("tasks.notice.done"),
        "reopened" => Some("tasks.notice.reopened"),
        _ => None,
    };
    render(
        &current,
        &state,
        task,
        String::new(),
        FieldErrors::default(),
        notice,
    )
    .await
}

/// Edits a task (title, description, due date, assignee): `tasks.create`.
pub async fn update(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<TaskForm>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::TasksCreate)?;
    let task = load(&current, &state, *id).await?;
    let form = form.into_inner();
    match write(&current, &state, &req, &form, Write::Update(task.id)).await? {
        Ok(id) => Ok(redirect(&format!("/tasks/{id}?notice=saved"))),
        Err(errors) => {
            let mut page = render(&current, &state, task, String::new(), errors, None).await?;
            *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(page)
        }
    }
}

async fn set_done(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    id: i64,
    done: bool,
) -> AppResult<HttpResponse> {
    let who = current.caller(&state, &req);
    state
        .db(move |conn| Ok(tasks::set_done(conn, &who.ctx(), &who.actor, id, done)?))
        .await?;
    let notice = if done { "done" } else { "reopened" };
    Ok(redirect(&format!("/tasks/{id}?notice={notice}")))
}

pub async fn done(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    set_done(req, current, state, *id, true).await
}

pub async fn reopen(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    set_done(req, current, state, *id, false).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CommentForm {
    pub body: String,
}

/// A comment; the assignee, the creator, earlier commenters and anyone
/// @mentioned who can see the task are told.
pub async fn comment(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<CommentForm>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::TasksComment)?;
    let task = load(&current, &state, *id).await?;
    let body = form.into_inner().body;
    let (id, text, who) = (task.id, body.clone(), current.caller(&state, &req));
    let written = crate::web::write(&state, move |conn| {
        tasks::comment(conn, &who.ctx(), &who.author(), id, &text)
    })
    .await?;
    match written {
        Ok(_) => Ok(redirect(&format!("/tasks/{id}?notice=commented"))),
        Err(fields) => {
            let errors = fields.renamed(&[("body", "comment")]).messages(current.tr);
            render(&current, &state, task, body, errors, None).await
        }
    }
}

/// The tasks panel of a conversation or customer page: open tasks the
/// reader can see, and where "New task" leads (when they may create one).
/// The tasks panel of a conversation or customer page: the reader to load
/// its tasks with (inside the page's own database work), if they may.
pub fn panel_reader(current: &CurrentUser) -> Option<TaskReader> {
    allowed(current, Flag::TasksView).then(|| reader(current))
}

/// The panel's tasks, read with `panel_reader`'s reader.
pub fn panel_tasks(
    conn: &mut crate::db::DbConn,
    reader: Option<&TaskReader>,
    which: TaskList,
) -> diesel::QueryResult<Vec<TaskLine>> {
    match reader {
        Some(reader) => task::list(conn, reader, which, 50),
        None => Ok(Vec::new()),
    }
}

/// The panel's rows and its "New task" link.
pub fn panel(
    current: &CurrentUser,
    state: &AppState,
    which: TaskList,
    lines: Vec<TaskLine>,
) -> (Vec<TaskRow>, Option<String>) {
    let link = match which {
        TaskList::Conversation(id) => Some(format!("/tasks/new?conversation={id}")),
        TaskList::Customer(id) => Some(format!("/tasks/new?customer={id}")),
        _ => None,
    }
    .filter(|_| allowed(current, Flag::TasksCreate));
    (
        rows(
            lines,
            today(current, state),
            &policy::conversation_scope(&current.actor).0,
            current.tr,
        ),
        link,
    )
}
