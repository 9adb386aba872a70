//! Tasks: create, edit, close or reopen, comment — for the browser and the
//! API alike. Each asks `policy` (`tasks.create`, `tasks.comment`; the
//! assignee may close their own task), sees only tasks the actor can see,
//! and tells the people concerned in the caller's transaction.

use chrono::NaiveDate;

use super::messages::Author;
use super::{Ctx, Fields, Problem, Refusal};
use crate::db::DbConn;
use crate::mentions;
use crate::models::task::{self, Task, TaskFields, TaskReader};
use crate::notify;
use crate::policy::{self, Action, Actor, Flag};

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_TEXT_CHARS: usize = 20_000;

/// A task as the form or the API describes it.
pub struct TaskInput<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub due_on: Option<NaiveDate>,
    /// `None` when the request named nobody who can be given tasks.
    pub assignee_id: Option<i64>,
}

const UNKNOWN_ASSIGNEE: Problem = Problem::Unknown {
    key: "tasks.error.assignee",
    english: "no such active user",
};

/// Every problem of `input`, at once (the fields `title`, `description`,
/// `assignee_id`).
pub fn problems(conn: &mut DbConn, input: &TaskInput) -> Result<Fields, Refusal> {
    let mut fields = Fields::default();
    fields.text("title", input.title, MAX_TITLE_CHARS);
    if input.description.chars().count() > MAX_TEXT_CHARS {
        fields.add("description", Problem::TooLong(MAX_TEXT_CHARS));
    }
    let assignable = match input.assignee_id {
        Some(id) => task::assignable(conn)?.iter().any(|(p, _, _)| *p == id),
        None => false,
    };
    if !assignable {
        fields.add("assignee_id", UNKNOWN_ASSIGNEE);
    }
    Ok(fields)
}

fn reader(actor: &Actor) -> TaskReader {
    TaskReader::for_actor(actor.user_id, actor)
}

fn visible(conn: &mut DbConn, actor: &Actor, id: i64) -> Result<Task, Refusal> {
    task::find_visible(conn, &reader(actor), id)?.ok_or(Refusal::NotFound)
}

fn sender<'a>(ctx: &'a Ctx, author: &'a Author) -> notify::Sender<'a> {
    notify::Sender {
        org: ctx.org,
        config: ctx.config,
        actor_id: Some(author.actor.user_id),
        actor_name: author.name,
        now: ctx.now,
    }
}

/// What a task may be about: a conversation or a customer the actor sees.
#[derive(Clone, Copy, Debug, Default)]
pub struct Link {
    pub conversation_id: Option<i64>,
    pub customer_id: Option<i64>,
}

/// Refuses a link to something the actor cannot see (`conversation_id`,
/// `customer_id`).
fn check_link(
    conn: &mut DbConn,
    actor: &Actor,
    link: Link,
    fields: &mut Fields,
) -> Result<(), Refusal> {
    if let Some(id) = link.conversation_id
        && super::conversations::visible(conn, actor, id).is_err()
    {
        fields.add(
            "conversation_id",
            Problem::Unknown {
                key: "tasks.error.link",
                english: "no such conversation",
            },
        );
    }
    if let Some(id) = link.customer_id
        && (!policy::can(actor, Action::Use(Flag::CustomersView)).allowed
            || crate::models::customer::find(conn, id)?.is_none())
    {
        fields.add(
            "customer_id",
            Problem::Unknown {
                key: "tasks.error.link",
                english: "no such customer",
            },
        );
    }
    Ok(())
}

/// Creates a task; the assignee is told unless they created it.
pub fn create(
    conn: &mut DbConn,
    ctx: &Ctx,
    author: &Author,
    input: &TaskInput,
    link: Link,
) -> Result<i64, Refusal> {
    policy::ensure(author.actor, Action::Use(Flag::TasksCreate))?;
    let mut fields = problems(conn, input)?;
    check_link(conn, author.actor, link, &mut fields)?;
    super::check(fields)?;
    let assignee = input.assignee_id.ok_or(Refusal::NotFound)?;
    let creator = author.actor.user_id;
    let id = task::create(
        conn,
        &TaskFields {
            title: input.title.trim(),
            description: input.description.trim(),
            due_on: input.due_on,
            assignee_id: assignee,
        },
        creator,
        link.conversation_id,
        link.customer_id,
        ctx.now,
    )?;
    if assignee != creator {
        let created = task::find(conn, id)?.ok_or(Refusal::NotFound)?;
        let from = sender(ctx, author);
        notify::tell_task(conn, &from, assignee, notify::TaskKind::Assigned, &created)?;
    }
    Ok(id)
}

/// Edits a task's title, description, due date and assignee
/// (`tasks.create`); a new assignee is told unless they made the change.
pub fn update(
    conn: &mut DbConn,
    ctx: &Ctx,
    author: &Author,
    id: i64,
    input: &TaskInput,
) -> Result<(), Refusal> {
    let before = visible(conn, author.actor, id)?;
    policy::ensure(author.actor, Action::Use(Flag::TasksCreate))?;
    super::check(problems(conn, input)?)?;
    let assignee = input.assignee_id.ok_or(Refusal::NotFound)?;
    task::update(
        conn,
        id,
        &TaskFields {
            title: input.title.trim(),
            description: input.description.trim(),
            due_on: input.due_on,
            assignee_id: assignee,
        },
        ctx.now,
    )?;
    if assignee != before.assignee_id && assignee != author.actor.user_id {
        let changed = task::find(conn, id)?.ok_or(Refusal::NotFound)?;
        let from = sender(ctx, author);
        notify::tell_task(conn, &from, assignee, notify::TaskKind::Assigned, &changed)?;
    }
    Ok(())
}

/// Closes or reopens a task: the assignee their own, anyone else needs
/// `tasks.create`.
pub fn set_done(
    conn: &mut DbConn,
    ctx: &Ctx,
    actor: &Actor,
    id: i64,
    done: bool,
) -> Result<(), Refusal> {
    policy::ensure(actor, Action::Use(Flag::TasksView))?;
    let task = visible(conn, actor, id)?;
    if task.assignee_id != actor.user_id {
        policy::ensure(actor, Action::Use(Flag::TasksCreate))?;
    }
    Ok(task::set_done(conn, id, done, ctx.now)?)
}

/// A comment (field `body`); the assignee, the creator, earlier commenters
/// and anyone @mentioned are told (never the author).
pub fn comment(
    conn: &mut DbConn,
    ctx: &Ctx,
    author: &Author,
    task_id: i64,
    body: &str,
) -> Result<i64, Refusal> {
    policy::ensure(author.actor, Action::Use(Flag::TasksComment))?;
    let task = visible(conn, author.actor, task_id)?;
    let mut fields = Fields::default();
    fields.text("body", body, MAX_TEXT_CHARS);
    super::check(fields)?;
    let from = sender(ctx, author);
    let author_id = author.actor.user_id;
    let id = task::add_comment(conn, task.id, author_id, body.trim(), ctx.now)?;
    let mut told: Vec<i64> = vec![author_id];
    let mut audience = vec![task.assignee_id];
    audience.extend(task.creator_id);
    audience.extend(task::commenters(conn, task.id)?);
    let candidates = crate::models::people::mentionable_users(conn)?;
    audience.extend(mentions::mentioned(body, &candidates));
    for to in audience {
        if told.contains(&to) {
            continue;
        }
        told.push(to);
        notify::tell_task(conn, &from, to, notify::TaskKind::Comment, &task)?;
    }
    Ok(id)
}
