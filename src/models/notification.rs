//! In-app notifications about conversations (mentions, assignments,
//! replies) and tasks (assigned, commented, due). Lists are filtered in SQL:
//! a notification about a conversation the reader can no longer see does
//! not show, nor one about a task they can no longer see.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{conversations, notifications, tasks, users};
use crate::models::task::{self, TaskReader};
use crate::policy::ConversationScope;

pub fn create(
    conn: &mut DbConn,
    user_id: i64,
    kind: &str,
    conversation_id: i64,
    actor_id: Option<i64>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(notifications::table)
        .values((
            notifications::user_id.eq(user_id),
            notifications::kind.eq(kind),
            notifications::conversation_id.eq(conversation_id),
            notifications::actor_id.eq(actor_id),
            notifications::created_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn create_for_task(
    conn: &mut DbConn,
    user_id: i64,
    kind: &str,
    task_id: i64,
    actor_id: Option<i64>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(notifications::table)
        .values((
            notifications::user_id.eq(user_id),
            notifications::kind.eq(kind),
            notifications::task_id.eq(task_id),
            notifications::actor_id.eq(actor_id),
            notifications::created_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// One notification as the list shows it: what it is about and where it leads.
#[derive(Clone, Debug)]
pub struct Line {
    pub id: i64,
    pub kind: String,
    /// `/conversations/12` or `/tasks/3`.
    pub link: String,
    pub subject: String,
    pub actor_name: Option<String>,
    pub created_at: NaiveDateTime,
    pub read_at: Option<NaiveDateTime>,
}

type Row = (
    i64,
    String,
    i64,
    String,
    Option<String>,
    NaiveDateTime,
    Option<NaiveDateTime>,
);

pub fn recent(
    conn: &mut DbConn,
    user_id: i64,
    scope: &ConversationScope,
    reader: &TaskReader,
    limit: i64,
) -> QueryResult<Vec<Line>> {
    let mut about_conversations = notifications::table
        .inner_join(conversations::table)
        .left_join(users::table.on(notifications::actor_id.eq(users::id.nullable())))
        .filter(notifications::user_id.eq(user_id))
        .select((
            notifications::id,
            notifications::kind,
            conversations::id,
            conversations::subject,
            users::name.nullable(),
            notifications::created_at,
            notifications::read_at,
        ))
        .into_boxed();
    about_conversations = match scope {
        ConversationScope::All => about_conversations,
        ConversationScope::Limited(reach) => {
            crate::models::conversation::within_reach!(about_conversations, reach)
        }
        ConversationScope::None => about_conversations.filter(conversations::id.eq(-1)),
    };
    let conversation_rows: Vec<Row> = about_conversations
        .order(notifications::id.desc())
        .limit(limit)
        .load(conn)?;
    let task_rows: Vec<Row> = notifications::table
        .inner_join(tasks::table.on(notifications::task_id.eq(tasks::id.nullable())))
        .left_join(users::table.on(notifications::actor_id.eq(users::id.nullable())))
        .filter(notifications::user_id.eq(user_id))
        .filter(crate::db::cached_sql(task::visible_condition(reader)))
        .select((
            notifications::id,
            notifications::kind,
            tasks::id,
            tasks::title,
            users::name.nullable(),
            notifications::created_at,
            notifications::read_at,
        ))
        .order(notifications::id.desc())
        .limit(limit)
        .load(conn)?;
    let mut lines: Vec<Line> = conversation_rows
        .into_iter()
        .map(|r| (r, "conversations"))
        .chain(task_rows.into_iter().map(|r| (r, "tasks")))
        .map(
            |((id, kind, target, subject, actor_name, created_at, read_at), area)| Line {
                id,
                kind,
                link: format!("/{area}/{target}"),
                subject,
                actor_name,
                created_at,
                read_at,
            },
        )
        .collect();
    lines.sort_by_key(|line| std::cmp::Reverse(line.id));
    lines.truncate(limit as usize);
    Ok(lines)
}

pub fn unread_count(
    conn: &mut DbConn,
    user_id: i64,
    scope: &ConversationScope,
    reader: &TaskReader,
) -> QueryResult<i64> {
    // A notification is about a conversation or about a task, never both:
    // one count with the two visibility rules side by side.
    let about_conversation = match scope {
        ConversationScope::All => "notifications.conversation_id IS NOT NULL".to_string(),
        ConversationScope::Limited(reach) if !reach.is_empty() => format!(
            "notifications.conversation_id IN (SELECT c.id FROM conversations c WHERE {})",
            crate::search::reach_sql(reach, "c")
        ),
        _ => "1 = 0".to_string(),
    };
    let visible = crate::db::cached_sql(format!(
        "({about_conversation} OR (notifications.task_id IS NOT NULL AND {}))",
        task::visible_ids_in("notifications.task_id", reader)
    ));
    crate::on_backend!(conn, |c| notifications::table
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::read_at.is_null())
        .filter(visible.clone())
        .count()
        .get_result(c))
}

/// What a notification is about.
#[derive(Clone, Copy, Debug)]
pub enum About {
    Conversation(i64),
    Task(i64),
}

/// Marks read: one notification, or all of the user's, or all of the
/// user's about one conversation (when they open it).
/// Marks one of the user's own notifications read; `false` when they have
/// none with this id (someone else's answers the same as a missing one).
pub fn mark_own_read(
    conn: &mut DbConn,
    user_id: i64,
    id: i64,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let mine: i64 = notifications::table
        .filter(notifications::id.eq(id))
        .filter(notifications::user_id.eq(user_id))
        .count()
        .get_result(conn)?;
    if mine == 1 {
        mark_read(conn, user_id, Some(id), None, now)?;
    }
    Ok(mine == 1)
}

pub fn mark_read(
    conn: &mut DbConn,
    user_id: i64,
    id: Option<i64>,
    about: Option<About>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let mut query = notifications::table
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::read_at.is_null())
        .into_boxed();
    if let Some(id) = id {
        query = query.filter(notifications::id.eq(id));
    }
    match about {
        Some(About::Conversation(c)) => query = query.filter(notifications::conversation_id.eq(c)),
        Some(About::Task(t)) => query = query.filter(notifications::task_id.eq(t)),
        None => {}
    }
    let ids: Vec<i64> = query.select(notifications::id).load(conn)?;
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::update(notifications::table.filter(notifications::id.eq_any(ids)))
        .set(notifications::read_at.eq(now))
        .execute(conn)
}
