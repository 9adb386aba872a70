//! Custom roles: create, edit, delete (moving their users). Each asks
//! `policy::can_change_role` — nobody defines a role beyond their own flags,
//! edits one above them, or moves users into one above them — checks the
//! name and writes the audit entry in the caller's transaction.

use serde_json::json;

use super::{By, Fields, Problem, Refusal};
use crate::db::DbConn;
use crate::models::audit::{self, Event};
use crate::models::role::{self, Role};
use crate::policy::{self, Action, Actor, Flag, FlagSet, RoleChange, RoleRule};

pub const MAX_NAME_CHARS: usize = 60;

/// A role as the form describes it (fields `name`, `flags`).
pub struct RoleInput<'a> {
    pub name: &'a str,
    pub flags: FlagSet,
}

fn rule_problem(rule: RoleRule) -> Problem {
    Problem::Rule {
        key: rule.key(),
        english: "the role would hold permissions above yours",
    }
}

/// Every problem of a new or edited (`existing`) role at once; a role above
/// the actor's own is refused outright.
fn check(
    conn: &mut DbConn,
    by: &By,
    input: &RoleInput,
    existing: Option<&Role>,
) -> Result<(), Refusal> {
    policy::ensure(by.actor, Action::Use(Flag::UsersManageRoles))?;
    let mut fields = Fields::default();
    fields.text("name", input.name, MAX_NAME_CHARS);
    let grant = existing.map(Role::grant);
    let change = match &grant {
        Some(role) => RoleChange::Edit {
            role,
            flags: input.flags,
        },
        None => RoleChange::Create { flags: input.flags },
    };
    match policy::can_change_role(by.actor, change) {
        (true, _) => {}
        (false, RoleRule::FlagsAboveYours) => {
            fields.add("flags", rule_problem(RoleRule::FlagsAboveYours))
        }
        (false, rule) => return Err(Refusal::Rule(rule.key())),
    }
    if input.flags == FlagSet::default() {
        fields.add(
            "flags",
            Problem::Rule {
                key: "roles.error.no_flags",
                english: "choose at least one permission",
            },
        );
    }
    if !fields.0.iter().any(|(f, _)| *f == "name")
        && role::name_taken(conn, input.name, existing.map(|r| r.id))?
    {
        {
            fields.add(
                "name",
                Problem::Taken {
                    key: "roles.error.taken",
                    english: "another role has this name",
                },
            );
        }
    }
    super::check(fields)
}

fn record(
    conn: &mut DbConn,
    by: &By,
    action: &str,
    role: (i64, &str),
    change: (Option<serde_json::Value>, Option<serde_json::Value>),
    now: chrono::NaiveDateTime,
) -> Result<(), Refusal> {
    audit::record(
        conn,
        by.audit,
        Event {
            action,
            target_type: "role",
            target_id: Some(role.0),
            target_label: role.1,
            before: change.0,
            after: change.1,
        },
        now,
    )?;
    Ok(())
}

pub fn create(
    conn: &mut DbConn,
    by: &By,
    input: &RoleInput,
    now: chrono::NaiveDateTime,
) -> Result<i64, Refusal> {
    check(conn, by, input, None)?;
    let name = input.name.trim();
    let id = role::create_custom(conn, name, input.flags, now)?;
    let after = json!({ "name": name, "flags": input.flags.to_text() });
    record(
        conn,
        by,
        "role.created",
        (id, name),
        (None, Some(after)),
        now,
    )?;
    Ok(id)
}

/// A custom role the actor may change at all (not one above their own).
pub fn editable(conn: &mut DbConn, actor: &Actor, id: i64) -> Result<Role, Refusal> {
    policy::ensure(actor, Action::Use(Flag::UsersManageRoles))?;
    let role = role::find(conn, id)?
        .filter(|r| !r.builtin)
        .ok_or(Refusal::NotFound)?;
    let grant = role.grant();
    let change = RoleChange::Edit {
        role: &grant,
        flags: grant.flags,
    };
    match policy::can_change_role(actor, change) {
        (true, _) => Ok(role),
        (false, rule) => Err(Refusal::Rule(rule.key())),
    }
}

pub fn update(
    conn: &mut DbConn,
    by: &By,
    id: i64,
    input: &RoleInput,
    now: chrono::NaiveDateTime,
) -> Result<(), Refusal> {
    let role = editable(conn, by.actor, id)?;
    check(conn, by, input, Some(&role))?;
    let name = input.name.trim();
    role::update_custom(conn, role.id, name, input.flags)?;
    let before = json!({ "name": role.name, "flags": role.permissions });
    let after = json!({ "name": name, "flags": input.flags.to_text() });
    if before != after {
        record(
            conn,
            by,
            "role.updated",
            (role.id, name),
            (Some(before), Some(after)),
            now,
        )?;
    }
    Ok(())
}

/// Deletes a custom role; its users move to `move_to` (needed when it has
/// users: field `move_to`).
pub fn delete(
    conn: &mut DbConn,
    by: &By,
    id: i64,
    move_to: Option<i64>,
    now: chrono::NaiveDateTime,
) -> Result<(), Refusal> {
    policy::ensure(by.actor, Action::Use(Flag::UsersManageRoles))?;
    let role = role::find(conn, id)?
        .filter(|r| !r.builtin)
        .ok_or(Refusal::NotFound)?;
    let users = role::usage(conn)?.get(&role.id).copied().unwrap_or(0);
    let move_to = move_to.filter(|&m| m != role.id);
    let target = match move_to {
        Some(m) => role::find(conn, m)?,
        None => None,
    };
    let (grant, target_grant) = (role.grant(), target.as_ref().map(Role::grant));
    let (allowed, rule) = policy::can_change_role(
        by.actor,
        RoleChange::Delete {
            role: &grant,
            move_to: target_grant.as_ref().filter(|_| users > 0),
        },
    );
    if !allowed && rule == RoleRule::RoleAboveYours {
        return Err(Refusal::Rule(rule.key()));
    }
    let target_ok = allowed && target.is_some();
    if users > 0 && !target_ok {
        let mut fields = Fields::default();
        let problem = if allowed {
            Problem::InUse(usize::try_from(users).unwrap_or(usize::MAX))
        } else {
            rule_problem(rule)
        };
        fields.add("move_to", problem);
        return Err(Refusal::Fields(fields));
    }
    let moved = role::delete_custom(conn, role.id, move_to.filter(|_| target_ok))?;
    let before = json!({ "name": role.name, "flags": role.permissions, "users": moved });
    let after = json!({ "users_moved_to": target.map(|r| r.name) });
    record(
        conn,
        by,
        "role.deleted",
        (role.id, &role.name),
        (Some(before), Some(after)),
        now,
    )
}
