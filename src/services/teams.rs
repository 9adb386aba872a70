//! Teams: every team write — create, rename, add or remove a member,
//! delete — for Settings > Teams and SCIM groups alike. Each asks the policy
//! (`teams.manage`), checks the name, writes and records its audit entry, in
//! the caller's transaction; a refusal writes nothing.

use chrono::NaiveDateTime;
use serde_json::json;

use super::{Fields, Problem, Refusal};
use crate::db::DbConn;
use crate::models::audit::{self, AuditActor, Event};
use crate::models::team::{self, NewTeam, Team};
use crate::policy::{self, Action, Actor, Flag};

/// As the Teams page shows it.
pub const MAX_NAME_CHARS: usize = 80;

/// Who writes, as the policy and the audit log see them, and when.
pub struct Ctx<'a> {
    pub actor: &'a Actor,
    pub audit: &'a AuditActor,
    pub now: NaiveDateTime,
}

fn allowed(ctx: &Ctx) -> Result<(), Refusal> {
    Ok(policy::ensure(ctx.actor, Action::Use(Flag::TeamsManage))?)
}

/// Another team has this name (compared without case).
pub const NAME_TAKEN: Problem = Problem::Taken {
    key: "teams.error.taken",
    english: "another team has this name",
};

/// The trimmed name, if it may be used (by the team `except`, when
/// renaming): field `name`, empty or longer than `MAX_NAME_CHARS`, or taken.
fn checked_name<'n>(
    conn: &mut DbConn,
    name: &'n str,
    except: Option<i64>,
) -> Result<&'n str, Refusal> {
    let mut fields = Fields::default();
    fields.text("name", name, MAX_NAME_CHARS);
    let name = name.trim();
    if fields.is_empty() && team::name_taken(conn, name, except)? {
        fields.add("name", NAME_TAKEN);
    }
    super::check(fields)?;
    Ok(name)
}

fn record(
    conn: &mut DbConn,
    ctx: &Ctx,
    action: &str,
    team: (i64, &str),
    change: (Option<serde_json::Value>, serde_json::Value),
) -> Result<(), Refusal> {
    audit::record(
        conn,
        ctx.audit,
        Event {
            action,
            target_type: "team",
            target_id: Some(team.0),
            target_label: team.1,
            before: change.0,
            after: Some(change.1),
        },
        ctx.now,
    )?;
    Ok(())
}

pub fn create(conn: &mut DbConn, ctx: &Ctx, name: &str) -> Result<i64, Refusal> {
    allowed(ctx)?;
    let name = checked_name(conn, name, None)?;
    let id = Team::create(
        conn,
        &NewTeam {
            name,
            created_at: ctx.now,
        },
    )?;
    record(
        conn,
        ctx,
        "team.created",
        (id, name),
        (None, json!({ "name": name })),
    )?;
    Ok(id)
}

/// Renames the team; the same name again changes nothing.
pub fn rename(conn: &mut DbConn, ctx: &Ctx, team: &Team, name: &str) -> Result<(), Refusal> {
    allowed(ctx)?;
    let name = checked_name(conn, name, Some(team.id))?;
    if name != team.name {
        team::rename(conn, team.id, name)?;
        record(
            conn,
            ctx,
            "team.renamed",
            (team.id, name),
            (Some(json!({ "name": team.name })), json!({ "name": name })),
        )?;
    }
    Ok(())
}

/// Adds or removes a member; whether anything changed.
pub fn set_member(
    conn: &mut DbConn,
    ctx: &Ctx,
    team: &Team,
    user_id: i64,
    member: bool,
) -> Result<bool, Refusal> {
    allowed(ctx)?;
    let user = crate::models::user::User::find(conn, user_id)?.ok_or(Refusal::NotFound)?;
    let changed = if member {
        let already = Team::ids_of_user(conn, user_id)?.contains(&team.id);
        if !already {
            Team::add_member(conn, team.id, user_id)?;
        }
        !already
    } else {
        team::remove_member(conn, team.id, user_id)? > 0
    };
    if changed {
        let action = if member {
            "team.member_added"
        } else {
            "team.member_removed"
        };
        record(
            conn,
            ctx,
            action,
            (team.id, &team.name),
            (None, json!({ "user": user.email })),
        )?;
    }
    Ok(changed)
}

/// Deletes the team; its members and conversations move to `move_to`, or
/// the conversations stay without a team.
pub fn delete(
    conn: &mut DbConn,
    ctx: &Ctx,
    team: &Team,
    move_to: Option<i64>,
) -> Result<(), Refusal> {
    allowed(ctx)?;
    if let Some(target) = move_to {
        Team::find(conn, target)?.ok_or(Refusal::NotFound)?;
    }
    let members = team::members(conn, team.id)?.len();
    team::delete(conn, team.id, move_to)?;
    record(
        conn,
        ctx,
        "team.deleted",
        (team.id, &team.name),
        (
            Some(json!({ "name": team.name, "members": members })),
            json!({ "members_moved_to": move_to }),
        ),
    )
}

/// The identity provider's own id for the team (SCIM `externalId`).
pub fn set_external_id(
    conn: &mut DbConn,
    ctx: &Ctx,
    team: &Team,
    external_id: Option<&str>,
) -> Result<(), Refusal> {
    allowed(ctx)?;
    Ok(team::set_external_id(conn, team.id, external_id)?)
}
