//! Tasks and their comments. Who sees a task is decided in SQL
//! (`TaskReader`): its assignee and creator; anyone who can see its
//! conversation; and full-time users for tasks without a conversation.
//! Collaborators therefore see the tasks assigned to them and the tasks on
//! conversations they can see — nothing else.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{conversations, customers, task_comments, tasks, users};
use crate::policy::{self, Actor, ConversationScope};

#[derive(Queryable, Clone, Debug)]
pub struct Task {
    pub id: i64,
    pub title: String,
    pub description: String,
    /// `description` rendered and sanitized when written (`None`: not yet).
    pub description_html: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub assignee_id: i64,
    pub creator_id: Option<i64>,
    pub status: String,
    pub conversation_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub completed_at: Option<NaiveDateTime>,
    pub due_notified_at: Option<NaiveDateTime>,
}

impl Task {
    pub fn is_open(&self) -> bool {
        self.status == "open"
    }

    /// Open and due before `today` (the reader's today).
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.is_open() && self.due_on.is_some_and(|due| due < today)
    }
}

/// Who is looking at tasks.
pub struct TaskReader {
    pub user_id: i64,
    pub collaborator: bool,
    pub scope: ConversationScope,
}

impl TaskReader {
    pub fn for_actor(user_id: i64, actor: &Actor) -> Self {
        Self {
            user_id,
            collaborator: actor.is_collaborator(),
            scope: policy::conversation_scope(actor).0,
        }
    }

    /// The visibility rule as SQL over `tasks` (ids are integers from the
    /// database, safe to write inline).
    fn condition(&self) -> String {
        let uid = self.user_id;
        let conversation = match &self.scope {
            ConversationScope::All => "tasks.conversation_id IS NOT NULL".to_string(),
            ConversationScope::Limited(reach) if !reach.is_empty() => format!(
                "tasks.conversation_id IN (SELECT c.id FROM conversations c WHERE {})",
                crate::search::reach_sql(reach, "c")
            ),
            _ => "1 = 0".to_string(),
        };
        let unlinked = if self.collaborator {
            ""
        } else {
            " OR tasks.conversation_id IS NULL"
        };
        format!(
            "(tasks.assignee_id = {uid} OR tasks.creator_id = {uid} OR {conversation}{unlinked})"
        )
    }
}

/// The rule as SQL over a `tasks` table in the query.
pub fn visible_condition(reader: &TaskReader) -> String {
    reader.condition()
}

/// `column IN (ids of the tasks reader may see)`, as SQL.
pub fn visible_ids_in(column: &str, reader: &TaskReader) -> String {
    format!(
        "{column} IN (SELECT tasks.id FROM tasks WHERE {})",
        reader.condition()
    )
}

/// A task in a list, with the names a list shows.
#[derive(Queryable, Clone, Debug)]
pub struct TaskLine {
    pub id: i64,
    pub title: String,
    pub due_on: Option<NaiveDate>,
    pub status: String,
    pub assignee_name: String,
    pub conversation_id: Option<i64>,
    pub conversation_subject: Option<String>,
    /// To hide the conversation from readers outside its scope.
    pub conversation_team_id: Option<i64>,
    pub conversation_customer_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub customer_name: Option<String>,
}

/// Which tasks a list shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskList {
    /// Open tasks assigned to the reader.
    Mine,
    /// Open tasks the reader created for others.
    Created,
    /// Done tasks assigned to or created by the reader.
    Done,
    /// Open tasks on a conversation.
    Conversation(i64),
    /// Open tasks on a customer.
    Customer(i64),
}

/// Tasks with the names a list shows, before any filter.
macro_rules! task_lines {
    () => {
        tasks::table
            .inner_join(users::table.on(users::id.eq(tasks::assignee_id)))
            .left_join(
                conversations::table.on(tasks::conversation_id.eq(conversations::id.nullable())),
            )
            .left_join(customers::table.on(tasks::customer_id.eq(customers::id.nullable())))
            .select((
                tasks::id,
                tasks::title,
                tasks::due_on,
                tasks::status,
                users::name,
                tasks::conversation_id,
                conversations::subject.nullable(),
                conversations::team_id.nullable(),
                conversations::customer_id.nullable(),
                tasks::customer_id,
                customers::name.nullable(),
            ))
    };
}

pub fn list(
    conn: &mut DbConn,
    reader: &TaskReader,
    which: TaskList,
    limit: i64,
) -> QueryResult<Vec<TaskLine>> {
    let uid = reader.user_id;
    let base = task_lines!().filter(crate::db::cached_sql(reader.condition()));
    // Open first, then by due date (none last), then oldest first; each
    // list a query of its own type, so the statement cache keeps it.
    macro_rules! ordered {
        ($query:expr) => {
            crate::on_backend!(conn, |c| $query
                .order((
                    tasks::status.desc(),
                    tasks::due_on.is_null(),
                    tasks::due_on,
                    tasks::id,
                ))
                .limit(limit)
                .load(c))
        };
    }
    match which {
        TaskList::Mine => ordered!(
            base.filter(tasks::assignee_id.eq(uid))
                .filter(tasks::status.eq("open"))
        ),
        TaskList::Created => ordered!(
            base.filter(tasks::creator_id.eq(uid))
                .filter(tasks::assignee_id.ne(uid))
                .filter(tasks::status.eq("open"))
        ),
        TaskList::Done => ordered!(
            base.filter(tasks::assignee_id.eq(uid).or(tasks::creator_id.eq(uid)))
                .filter(tasks::status.eq("done"))
        ),
        TaskList::Conversation(id) => ordered!(base.filter(tasks::conversation_id.eq(id))),
        TaskList::Customer(id) => ordered!(base.filter(tasks::customer_id.eq(id))),
    }
}

/// The tasks on a conversation the reader was shown (`visible` comes from
/// `conversation::find_visible`), in `list`'s order. Whoever sees a
/// conversation sees every task on it, so the reader's condition is not
/// needed: a fixed statement the cache keeps. A conversation has a few
/// tasks: they are sorted here, as SQLite would sort them in a temporary
/// b-tree that costs more to set up than the page's other queries.
pub fn of_visible_conversation(
    conn: &mut DbConn,
    visible: &crate::models::conversation::Conversation,
    limit: usize,
) -> QueryResult<Vec<TaskLine>> {
    let id = visible.id;
    let mut lines: Vec<TaskLine> = crate::on_backend!(conn, |c| task_lines!()
        .filter(tasks::conversation_id.eq(id))
        .load(c))?;
    lines.sort_by(|a, b| {
        b.status
            .cmp(&a.status)
            .then(a.due_on.is_none().cmp(&b.due_on.is_none()))
            .then(a.due_on.cmp(&b.due_on))
            .then(a.id.cmp(&b.id))
    });
    lines.truncate(limit);
    Ok(lines)
}

pub fn find_visible(conn: &mut DbConn, reader: &TaskReader, id: i64) -> QueryResult<Option<Task>> {
    tasks::table
        .find(id)
        .filter(crate::db::cached_sql(reader.condition()))
        .first(conn)
        .optional()
}

/// These tasks, in the order of `ids`.
pub fn find_many(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<Task>> {
    let mut found: Vec<Task> = tasks::table.filter(tasks::id.eq_any(ids)).load(conn)?;
    found.sort_by_key(|t| ids.iter().position(|id| *id == t.id));
    Ok(found)
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<Task>> {
    tasks::table.find(id).first(conn).optional()
}

pub struct TaskFields<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub due_on: Option<NaiveDate>,
    pub assignee_id: i64,
}

pub fn create(
    conn: &mut DbConn,
    fields: &TaskFields,
    creator_id: i64,
    conversation_id: Option<i64>,
    customer_id: Option<i64>,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    diesel::insert_into(tasks::table)
        .values((
            tasks::title.eq(fields.title),
            tasks::description.eq(fields.description),
            tasks::description_html.eq(crate::markdown::for_storage(fields.description)),
            tasks::due_on.eq(fields.due_on),
            tasks::assignee_id.eq(fields.assignee_id),
            tasks::creator_id.eq(creator_id),
            tasks::status.eq("open"),
            tasks::conversation_id.eq(conversation_id),
            tasks::customer_id.eq(customer_id),
            tasks::created_at.eq(now),
            tasks::updated_at.eq(now),
        ))
        .returning(tasks::id)
        .get_result(conn)
}

pub fn update(
    conn: &mut DbConn,
    id: i64,
    fields: &TaskFields,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(tasks::table.find(id))
        .set((
            tasks::title.eq(fields.title),
            tasks::description.eq(fields.description),
            tasks::description_html.eq(crate::markdown::for_storage(fields.description)),
            tasks::due_on.eq(fields.due_on),
            tasks::assignee_id.eq(fields.assignee_id),
            tasks::updated_at.eq(now),
            // A new due date or assignee is told again when it comes.
            tasks::due_notified_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn set_done(conn: &mut DbConn, id: i64, done: bool, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(tasks::table.find(id))
        .set((
            tasks::status.eq(if done { "done" } else { "open" }),
            tasks::completed_at.eq(done.then_some(now)),
            tasks::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

#[derive(Queryable, Clone, Debug)]
pub struct CommentLine {
    pub id: i64,
    pub body: String,
    pub body_html: Option<String>,
    pub created_at: NaiveDateTime,
    pub author_name: Option<String>,
    pub author_type: Option<crate::policy::UserType>,
    pub author_id: Option<i64>,
}

pub fn comments(conn: &mut DbConn, task_id: i64) -> QueryResult<Vec<CommentLine>> {
    task_comments::table
        .left_join(users::table.on(task_comments::author_id.eq(users::id.nullable())))
        .filter(task_comments::task_id.eq(task_id))
        .select((
            task_comments::id,
            task_comments::body,
            task_comments::body_html,
            task_comments::created_at,
            users::name.nullable(),
            users::user_type.nullable(),
            task_comments::author_id,
        ))
        .order(task_comments::id)
        .load(conn)
}

pub fn add_comment(
    conn: &mut DbConn,
    task_id: i64,
    author_id: i64,
    body: &str,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    diesel::update(tasks::table.find(task_id))
        .set(tasks::updated_at.eq(now))
        .execute(conn)?;
    diesel::insert_into(task_comments::table)
        .values((
            task_comments::task_id.eq(task_id),
            task_comments::author_id.eq(author_id),
            task_comments::body.eq(body),
            task_comments::body_html.eq(crate::markdown::for_storage(body)),
            task_comments::created_at.eq(now),
        ))
        .returning(task_comments::id)
        .get_result(conn)
}

/// Everyone who has commented on a task.
pub fn commenters(conn: &mut DbConn, task_id: i64) -> QueryResult<Vec<i64>> {
    task_comments::table
        .filter(task_comments::task_id.eq(task_id))
        .filter(task_comments::author_id.is_not_null())
        .select(task_comments::author_id.assume_not_null())
        .distinct()
        .load(conn)
}

/// Open tasks due on or before `day` whose assignee was not told yet.
pub fn due_untold(conn: &mut DbConn, day: NaiveDate) -> QueryResult<Vec<Task>> {
    tasks::table
        .filter(tasks::status.eq("open"))
        .filter(tasks::due_on.le(day))
        .filter(tasks::due_notified_at.is_null())
        .order(tasks::id)
        .limit(500)
        .load(conn)
}

/// Marks the due notice as sent; false when another node did it first.
pub fn mark_due_told(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        tasks::table
            .find(id)
            .filter(tasks::due_notified_at.is_null()),
    )
    .set(tasks::due_notified_at.eq(now))
    .execute(conn)
    .map(|n| n == 1)
}

/// Every active user, collaborators included: who a task can go to.
pub fn assignable(conn: &mut DbConn) -> QueryResult<Vec<(i64, String, crate::policy::UserType)>> {
    users::table
        .filter(users::active.eq(true))
        .select((users::id, users::name, users::user_type))
        .order((users::name, users::id))
        .load(conn)
}
