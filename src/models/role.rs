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

    pub fn find_by_key(conn: &mut DbConn, key: &str) -> QueryResult<Option<Role>> {
        roles::table
            .filter(roles::key.eq(key))
            .first(conn)
            .optional()
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
