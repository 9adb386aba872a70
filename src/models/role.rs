//! Roles as stored: the built-in four are synchronised from `policy` at
//! every start (their flags are never edited here); custom roles hold the
//! flags an admin gave them, as text.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::roles;
use crate::policy::{BuiltinRole, FlagSet, RoleGrant};

#[derive(Queryable, Clone, Debug)]
pub struct Role {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub builtin: bool,
    pub permissions: String,
    #[diesel(deserialize_as = crate::db::StoredTime)]
    pub created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = roles)]
struct NewRole<'a> {
    key: &'a str,
    name: &'a str,
    builtin: bool,
    permissions: String,
    created_at: NaiveDateTime,
}

impl Role {
    /// What the policy needs. Built-in roles take their flags from code, so an
    /// upgrade that changes them applies at once.
    pub fn grant(&self) -> RoleGrant {
        match BuiltinRole::parse(&self.key).filter(|_| self.builtin) {
            Some(builtin) => RoleGrant::builtin(builtin),
            None => RoleGrant {
                name: self.name.clone(),
                builtin: None,
                flags: FlagSet::parse(&self.permissions),
            },
        }
    }

    pub fn id_of(conn: &mut DbConn, role: BuiltinRole) -> QueryResult<i64> {
        roles::table
            .filter(roles::key.eq(role.key()))
            .select(roles::id)
            .first(conn)
    }

    pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Role>> {
        roles::table
            .order((roles::builtin.desc(), roles::id))
            .load(conn)
    }

    /// Makes the built-in rows exist and carry the flags the code defines.
    /// Runs at every start, after migrations; safe on several nodes at once.
    pub fn sync_builtin(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<()> {
        for role in BuiltinRole::ALL {
            let permissions = role.flags().to_text();
            let updated = diesel::update(roles::table.filter(roles::key.eq(role.key())))
                .set((roles::permissions.eq(&permissions), roles::builtin.eq(true)))
                .execute(conn)?;
            if updated == 0 {
                let inserted = diesel::insert_into(roles::table)
                    .values(&NewRole {
                        key: role.key(),
                        name: role.key(),
                        builtin: true,
                        permissions,
                        created_at: now,
                    })
                    .execute(conn);
                match inserted {
                    // Another node inserted it first: fine.
                    Err(diesel::result::Error::DatabaseError(
                        diesel::result::DatabaseErrorKind::UniqueViolation,
                        _,
                    )) => {}
                    other => {
                        other?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Users holding each role, in one query.
pub fn usage(conn: &mut DbConn) -> QueryResult<std::collections::HashMap<i64, i64>> {
    use crate::db::schema::users;
    let rows: Vec<(Option<i64>, i64)> = users::table
        .filter(users::role_id.is_not_null())
        .group_by(users::role_id)
        .select((users::role_id, diesel::dsl::count(users::id)))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, n)| id.map(|id| (id, n)))
        .collect())
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<Role>> {
    roles::table.find(id).first(conn).optional()
}

pub fn name_taken(conn: &mut DbConn, name: &str, except: Option<i64>) -> QueryResult<bool> {
    let mut query = roles::table
        .filter(crate::db::lower(roles::name).eq(name.trim().to_lowercase()))
        .into_boxed();
    if let Some(id) = except {
        query = query.filter(roles::id.ne(id));
    }
    Ok(query.count().get_result::<i64>(conn)? > 0)
}

pub fn create_custom(
    conn: &mut DbConn,
    name: &str,
    flags: FlagSet,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    diesel::insert_into(roles::table)
        .values(&NewRole {
            key: &format!("custom-{}", crate::crypto::random_token()),
            name: name.trim(),
            builtin: false,
            permissions: flags.to_text(),
            created_at: now,
        })
        .returning(roles::id)
        .get_result(conn)
}

pub fn update_custom(conn: &mut DbConn, id: i64, name: &str, flags: FlagSet) -> QueryResult<()> {
    diesel::update(roles::table.find(id).filter(roles::builtin.eq(false)))
        .set((
            roles::name.eq(name.trim()),
            roles::permissions.eq(flags.to_text()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Deletes a custom role; its users move to `move_to` first.
pub fn delete_custom(conn: &mut DbConn, id: i64, move_to: Option<i64>) -> QueryResult<usize> {
    use crate::db::schema::users;
    let moved = diesel::update(users::table.filter(users::role_id.eq(id)))
        .set(users::role_id.eq(move_to))
        .execute(conn)?;
    diesel::delete(roles::table.find(id).filter(roles::builtin.eq(false))).execute(conn)?;
    Ok(moved)
}

impl Role {
    /// A custom role, or `NotFound` (built-in roles cannot be edited).
    pub fn find_custom(conn: &mut DbConn, id: i64) -> Result<Role, crate::error::AppError> {
        find(conn, id)?
            .filter(|r| !r.builtin)
            .ok_or(crate::error::AppError::NotFound)
    }
}
