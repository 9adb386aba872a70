//! Customers, their organizations, conversations and messages: the rows the
//! demo workspace writes and the home page counts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{conversations, customers, messages, organizations};
use crate::models::conversation::{Channel, MessageKind, Priority, Status, View};
use crate::policy::ConversationScope;

#[derive(Insertable)]
#[diesel(table_name = organizations)]
pub struct NewOrganization<'a> {
    pub name: &'a str,
    pub domains: &'a str,
    pub created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = customers)]
pub struct NewCustomer<'a> {
    pub name: &'a str,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub organization_id: Option<i64>,
    pub created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = conversations)]
pub struct NewConversation<'a> {
    pub subject: &'a str,
    pub customer_id: i64,
    pub status: Status,
    pub snoozed_until: Option<NaiveDateTime>,
    pub priority: Priority,
    pub assignee_id: Option<i64>,
    pub team_id: Option<i64>,
    pub channel: Channel,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub last_activity_at: NaiveDateTime,
    pub closed_at: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = messages)]
pub struct NewMessage<'a> {
    pub conversation_id: i64,
    pub kind: MessageKind,
    pub author_user_id: Option<i64>,
    pub author_customer_id: Option<i64>,
    pub body: &'a str,
    pub created_at: NaiveDateTime,
}

pub fn create_organization(conn: &mut DbConn, new: &NewOrganization) -> QueryResult<i64> {
    diesel::insert_into(organizations::table)
        .values(new)
        .returning(organizations::id)
        .get_result(conn)
}

pub fn create_customer(conn: &mut DbConn, new: &NewCustomer) -> QueryResult<i64> {
    diesel::insert_into(customers::table)
        .values(new)
        .returning(customers::id)
        .get_result(conn)
}

pub fn create_conversation(conn: &mut DbConn, new: &NewConversation) -> QueryResult<i64> {
    diesel::insert_into(conversations::table)
        .values(new)
        .returning(conversations::id)
        .get_result(conn)
}

pub fn create_message(conn: &mut DbConn, new: &NewMessage) -> QueryResult<i64> {
    diesel::insert_into(messages::table)
        .values((
            new,
            messages::body_html.eq(crate::markdown::for_storage(new.body)),
        ))
        .returning(messages::id)
        .get_result(conn)
}

/// Conversation counts for a home page, filtered by the reader's scope in SQL.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConversationCounts {
    pub open: i64,
    pub mine_open: i64,
    pub unassigned_open: i64,
    pub done: i64,
}

pub fn conversation_counts(
    conn: &mut DbConn,
    scope: &ConversationScope,
    user_id: i64,
) -> QueryResult<ConversationCounts> {
    let reader = crate::models::conversation::Reader {
        scope,
        user_id,
        team_ids: &[],
    };
    let views = crate::models::conversation::counts(conn, &reader)?;
    let count = |view: View| views.get(view.key()).copied().unwrap_or(0);
    Ok(ConversationCounts {
        open: count(View::All),
        mine_open: count(View::Mine),
        unassigned_open: count(View::Unassigned),
        done: count(View::Done),
    })
}

pub fn customer_count(conn: &mut DbConn) -> QueryResult<i64> {
    customers::table.count().get_result(conn)
}

/// Records the latest activity (and closing time) of a conversation.
pub fn touch_conversation(
    conn: &mut DbConn,
    id: i64,
    at: NaiveDateTime,
    closed_at: Option<NaiveDateTime>,
) -> QueryResult<()> {
    diesel::update(conversations::table.find(id))
        .set((
            conversations::last_activity_at.eq(at),
            conversations::updated_at.eq(at),
            conversations::closed_at.eq(closed_at),
        ))
        .execute(conn)
        .map(|_| ())
}
