//! Saved replies as stored: personal (`user_id`) or a team's (`team_id`),
//! listed only within the reader's `policy::SnippetScope`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{saved_replies, team_memberships, teams};
use crate::policy::SnippetScope;

#[derive(Queryable, Clone, Debug)]
pub struct SavedReply {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub kind: String,
    pub user_id: Option<i64>,
    pub team_id: Option<i64>,
    pub created_by: Option<i64>,
    #[diesel(deserialize_as = crate::db::StoredTime)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::StoredTime)]
    pub updated_at: NaiveDateTime,
}

/// A saved reply with its team's name, for lists.
pub struct Listed {
    pub reply: SavedReply,
    pub team_name: Option<String>,
}

/// At most this many are listed (the composer filters them as one types).
pub const LIST_LIMIT: i64 = 500;

/// The saved replies `scope` sees, personal first, then by team and title.
/// One statement of fixed text (the scope travels as bound values), so
/// every connection prepares it once: the conversation page runs it.
pub fn visible(conn: &mut DbConn, scope: &SnippetScope) -> QueryResult<Vec<Listed>> {
    use diesel::sql_types::Bool;
    let kinds = |kind: &str| scope.kinds.contains(&kind);
    let my_teams = team_memberships::table
        .filter(team_memberships::user_id.eq(scope.user_id))
        .select(team_memberships::team_id.nullable());
    let rows = saved_replies::table
        .left_join(teams::table)
        .filter(
            saved_replies::kind
                .eq("reply")
                .and(kinds("reply").into_sql::<Bool>())
                .or(saved_replies::kind
                    .eq("note")
                    .and(kinds("note").into_sql::<Bool>())),
        )
        .filter(
            saved_replies::user_id
                .eq(scope.user_id)
                .or(saved_replies::team_id.eq_any(my_teams))
                .or(saved_replies::team_id
                    .is_not_null()
                    .and(scope.every_team.into_sql::<Bool>())),
        )
        .select((saved_replies::all_columns, teams::name.nullable()))
        .order((
            saved_replies::team_id.is_not_null(),
            teams::name,
            saved_replies::title,
            saved_replies::id,
        ))
        .limit(LIST_LIMIT)
        .load::<(SavedReply, Option<String>)>(conn)?;
    Ok(rows
        .into_iter()
        .map(|(reply, team_name)| Listed { reply, team_name })
        .collect())
}

/// One saved reply, if `scope` sees it.
pub fn find_visible(
    conn: &mut DbConn,
    scope: &SnippetScope,
    id: i64,
) -> QueryResult<Option<SavedReply>> {
    Ok(visible(conn, scope)?
        .into_iter()
        .find(|l| l.reply.id == id)
        .map(|l| l.reply))
}

pub struct Fields<'a> {
    pub title: &'a str,
    pub body: &'a str,
    pub kind: &'a str,
    pub user_id: Option<i64>,
    pub team_id: Option<i64>,
}

pub fn insert(
    conn: &mut DbConn,
    fields: &Fields,
    created_by: i64,
    now: NaiveDateTime,
) -> QueryResult<SavedReply> {
    diesel::insert_into(saved_replies::table)
        .values((
            saved_replies::title.eq(fields.title),
            saved_replies::body.eq(fields.body),
            saved_replies::kind.eq(fields.kind),
            saved_replies::user_id.eq(fields.user_id),
            saved_replies::team_id.eq(fields.team_id),
            saved_replies::created_by.eq(Some(created_by)),
            saved_replies::created_at.eq(now),
            saved_replies::updated_at.eq(now),
        ))
        .returning(saved_replies::all_columns)
        .get_result(conn)
}

pub fn update(conn: &mut DbConn, id: i64, fields: &Fields, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(saved_replies::table.find(id))
        .set((
            saved_replies::title.eq(fields.title),
            saved_replies::body.eq(fields.body),
            saved_replies::kind.eq(fields.kind),
            saved_replies::user_id.eq(fields.user_id),
            saved_replies::team_id.eq(fields.team_id),
            saved_replies::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn delete(conn: &mut DbConn, id: i64) -> QueryResult<()> {
    diesel::delete(saved_replies::table.find(id))
        .execute(conn)
        .map(|_| ())
}
