//! Access granted to a collaborator: one conversation, or every
//! conversation of one customer, until a date. Only grants without an end
//! (`ended_at`) are in force; revoking and the worker's expiry set it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{access_grants, conversations, customers, users};
use crate::policy::Granted;

/// What a grant opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Conversation(i64),
    Customer(i64),
}

#[derive(Queryable, Clone, Debug)]
pub struct AccessGrant {
    pub id: i64,
    pub user_id: i64,
    pub conversation_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub granted_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
    pub end_reason: Option<String>,
}

impl AccessGrant {
    pub fn target(&self) -> Target {
        match (self.conversation_id, self.customer_id) {
            (Some(id), _) => Target::Conversation(id),
            (None, Some(id)) => Target::Customer(id),
            // The table's CHECK makes one of them set.
            (None, None) => Target::Conversation(0),
        }
    }
}

crate::sql_per_backend!(
    /// The selected user's grants in force as one SQL value (`"c12,k3"`: a
    /// conversation, a customer; NULL for none), read in the same statement
    /// as the user.
    GrantsOfUser,
    diesel::sql_types::Nullable<diesel::sql_types::Text>,
    sqlite: "(SELECT group_concat(CASE WHEN g.conversation_id IS NOT NULL \
             THEN 'c' || g.conversation_id ELSE 'k' || g.customer_id END) \
             FROM access_grants g WHERE g.user_id = users.id AND g.ended_at IS NULL)",
    postgres: "(SELECT string_agg(CASE WHEN g.conversation_id IS NOT NULL \
               THEN 'c' || g.conversation_id::text ELSE 'k' || g.customer_id::text END, ',') \
               FROM access_grants g WHERE g.user_id = users.id AND g.ended_at IS NULL)",
);

/// `GrantsOfUser`'s value as what it grants.
pub fn granted_from(list: Option<&str>) -> Granted {
    let mut granted = Granted::default();
    for item in list.unwrap_or_default().split(',') {
        let (kind, id) = item.split_at(item.len().min(1));
        match (kind, id.parse::<i64>()) {
            ("c", Ok(id)) => granted.conversations.push(id),
            ("k", Ok(id)) => granted.customers.push(id),
            _ => {}
        }
    }
    granted
}

/// Every user's grants in force, by user (for "who can see this").
pub fn in_force_by_user(conn: &mut DbConn) -> QueryResult<std::collections::HashMap<i64, Granted>> {
    let rows: Vec<(i64, Option<i64>, Option<i64>)> = access_grants::table
        .filter(access_grants::ended_at.is_null())
        .select((
            access_grants::user_id,
            access_grants::conversation_id,
            access_grants::customer_id,
        ))
        .load(conn)?;
    let mut by_user: std::collections::HashMap<i64, Granted> = Default::default();
    for (user, conversation, customer) in rows {
        let granted = by_user.entry(user).or_default();
        granted.conversations.extend(conversation);
        granted.customers.extend(customer);
    }
    Ok(by_user)
}

/// A grant as a conversation shows it: who, until when, granted by whom,
/// and what it opens (the conversation's subject or the customer's name).
#[derive(Clone, Debug)]
pub struct Shown {
    pub grant: AccessGrant,
    pub user_name: String,
    pub granted_by_name: Option<String>,
    pub target_label: String,
}

/// The grants in force that open a conversation (its own, and its
/// customer's), soonest ending first.
pub fn in_force_for(
    conn: &mut DbConn,
    conversation_id: i64,
    customer_id: i64,
) -> QueryResult<Vec<Shown>> {
    shown(conn, Some((conversation_id, customer_id)))
}

/// Every grant in force, soonest ending first.
pub fn in_force_all(conn: &mut DbConn) -> QueryResult<Vec<Shown>> {
    shown(conn, None)
}

fn shown(conn: &mut DbConn, opening: Option<(i64, i64)>) -> QueryResult<Vec<Shown>> {
    let (granted, by) = diesel::alias!(users as granted, users as by);
    let mut query = access_grants::table
        .inner_join(granted.on(granted.field(users::id).eq(access_grants::user_id)))
        .left_join(by.on(access_grants::granted_by.eq(by.field(users::id).nullable())))
        .left_join(
            conversations::table
                .on(access_grants::conversation_id.eq(conversations::id.nullable())),
        )
        .left_join(customers::table.on(access_grants::customer_id.eq(customers::id.nullable())))
        .filter(access_grants::ended_at.is_null())
        .select((
            access_grants::all_columns,
            granted.field(users::name),
            by.field(users::name).nullable(),
            conversations::subject.nullable(),
            customers::name.nullable(),
        ))
        .order((access_grants::expires_at, access_grants::id))
        .into_boxed();
    if let Some((conversation_id, customer_id)) = opening {
        query = query.filter(
            access_grants::conversation_id
                .eq(conversation_id)
                .or(access_grants::customer_id.eq(customer_id)),
        );
    }
    type Row = (
        AccessGrant,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(grant, user_name, granted_by_name, subject, customer)| Shown {
                grant,
                user_name,
                granted_by_name,
                target_label: subject.or(customer).unwrap_or_default(),
            },
        )
        .collect())
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<AccessGrant>> {
    access_grants::table.find(id).first(conn).optional()
}

/// The grant in force for this user and target, if any.
pub fn in_force(
    conn: &mut DbConn,
    user_id: i64,
    target: Target,
) -> QueryResult<Option<AccessGrant>> {
    let query = access_grants::table
        .filter(access_grants::user_id.eq(user_id))
        .filter(access_grants::ended_at.is_null())
        .into_boxed();
    let query = match target {
        Target::Conversation(id) => query.filter(access_grants::conversation_id.eq(id)),
        Target::Customer(id) => query.filter(access_grants::customer_id.eq(id)),
    };
    query.first(conn).optional()
}

pub fn insert(
    conn: &mut DbConn,
    user_id: i64,
    target: Target,
    granted_by: Option<i64>,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    let (conversation_id, customer_id) = match target {
        Target::Conversation(id) => (Some(id), None),
        Target::Customer(id) => (None, Some(id)),
    };
    diesel::insert_into(access_grants::table)
        .values((
            access_grants::user_id.eq(user_id),
            access_grants::conversation_id.eq(conversation_id),
            access_grants::customer_id.eq(customer_id),
            access_grants::granted_by.eq(granted_by),
            access_grants::created_at.eq(now),
            access_grants::expires_at.eq(expires_at),
        ))
        .returning(access_grants::id)
        .get_result(conn)
}

/// Moves the end of a grant in force (a second grant of the same target).
pub fn extend(conn: &mut DbConn, id: i64, expires_at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(access_grants::table.find(id))
        .set(access_grants::expires_at.eq(expires_at))
        .execute(conn)
}

/// Ends a grant in force; `false` when it had ended already.
pub fn end(conn: &mut DbConn, id: i64, reason: &str, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        access_grants::table
            .find(id)
            .filter(access_grants::ended_at.is_null()),
    )
    .set((
        access_grants::ended_at.eq(now),
        access_grants::end_reason.eq(reason),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// Grants in force whose end has come.
pub fn expired(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<Vec<AccessGrant>> {
    access_grants::table
        .filter(access_grants::ended_at.is_null())
        .filter(access_grants::expires_at.le(now))
        .order(access_grants::id)
        .load(conn)
}

/// A conversation's subject or a customer's name: what a grant opens, in words.
pub fn target_label(conn: &mut DbConn, target: Target) -> QueryResult<String> {
    match target {
        Target::Conversation(id) => conversations::table
            .find(id)
            .select(conversations::subject)
            .first(conn),
        Target::Customer(id) => customers::table
            .find(id)
            .select(customers::name)
            .first(conn),
    }
}

/// Active collaborators, by name: whom access can be granted to.
pub fn collaborators(conn: &mut DbConn) -> QueryResult<Vec<(i64, String, String)>> {
    users::table
        .filter(users::user_type.eq(crate::policy::UserType::Collaborator))
        .filter(users::active.eq(true))
        .select((users::id, users::name, users::email))
        .order((users::name, users::id))
        .load(conn)
}
