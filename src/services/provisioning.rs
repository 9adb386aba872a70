//! Provisioning by group (Settings > Provisioning): mappings from SCIM
//! groups to a user type, a role and teams, and bringing a group's members
//! in line with them whenever SCIM changes a group (and when a mapping is
//! added). Conflicts resolve in one documented order: full-time wins over
//! collaborator; the role with the most permissions wins (the older
//! mapping on a tie); teams add up; seasonal users keep their type (their
//! window). A member who leaves every mapped group is deactivated when a
//! mapping they left says so. Each user changes through `users::update_user`
//! and `users::deactivate`, audited as done by provisioning.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use serde_json::json;

use super::users::{self, Outcome, UserInput};
use super::{By, Fields, Problem, Refusal};
use crate::db::DbConn;
use crate::models::audit::{self, AuditActor, Event};
use crate::models::org::OrgSettings;
use crate::models::people;
use crate::models::provisioning::{self, Mapping, MatchKind, NewMapping};
use crate::models::role::Role;
use crate::models::team::Team;
use crate::policy::{self, Action, Actor, Flag, UserType};

/// The longest group name or externalId a mapping matches.
pub const MAX_MATCH_CHARS: usize = 200;

/// Who provisioning is, to the policy and to the audit log.
pub fn provisioner() -> (Actor, AuditActor) {
    (
        Actor::provisioning(),
        AuditActor {
            id: None,
            name: "SCIM provisioning".into(),
            ip: None,
        },
    )
}

/// The ids of the mappings that match each user's groups now.
pub fn matched(
    conn: &mut DbConn,
    mappings: &[Mapping],
    user_ids: &[i64],
) -> diesel::QueryResult<HashMap<i64, Vec<i64>>> {
    let teams = provisioning::teams_of(conn, user_ids)?;
    Ok(matching_in(mappings, user_ids, &teams))
}

/// The ids of the mappings each user's groups (`teams`) match.
fn matching_in(
    mappings: &[Mapping],
    user_ids: &[i64],
    teams: &HashMap<i64, Vec<Team>>,
) -> HashMap<i64, Vec<i64>> {
    user_ids
        .iter()
        .map(|&user| {
            let groups = teams.get(&user).map_or(&[][..], Vec::as_slice);
            let ids = mappings
                .iter()
                .filter(|m| groups.iter().any(|team| m.matches(team)))
                .map(|m| m.id)
                .collect();
            (user, ids)
        })
        .collect()
}

/// What one user's matching mappings make of them (the documented order).
fn wanted(current: &UserInput, matching: &[&Mapping], roles: &[Role]) -> UserInput {
    let mut wanted = current.clone();
    let full_time: Vec<&&Mapping> = matching
        .iter()
        .filter(|m| m.user_type == UserType::FullTime)
        .collect();
    if current.user_type != UserType::Seasonal {
        wanted.user_type = if full_time.is_empty() {
            UserType::Collaborator
        } else {
            UserType::FullTime
        };
    }
    let weight = |role_id: i64| {
        roles
            .iter()
            .find(|r| r.id == role_id)
            .map_or(0, |r| r.grant().flags.iter().count())
    };
    // The most permissions; on a tie the older mapping (they come oldest first).
    let best = full_time
        .iter()
        .filter_map(|m| m.role_id)
        .fold(None, |best: Option<i64>, role| match best {
            Some(b) if weight(b) >= weight(role) => Some(b),
            _ => Some(role),
        });
    if wanted.user_type != UserType::Collaborator
        && let Some(role) = best
    {
        wanted.role_id = Some(role);
    }
    for m in matching {
        wanted.team_ids.extend(&m.team_ids);
    }
    wanted.team_ids.sort_unstable();
    wanted.team_ids.dedup();
    wanted
}

/// What bringing users in line did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Applied {
    pub changed: usize,
    pub deactivated: usize,
}

/// Brings `user_ids` in line with the mappings that match their groups
/// now; `before` holds the mappings that matched them before the change
/// (those with `deactivate_on_leave` deactivate a user matched by none).
pub fn apply(
    conn: &mut DbConn,
    by: &By,
    org: &OrgSettings,
    user_ids: &[i64],
    before: &HashMap<i64, Vec<i64>>,
    now: NaiveDateTime,
) -> Result<Applied, Outcome> {
    let mappings = provisioning::all(conn)?;
    if mappings.is_empty() {
        return Ok(Applied::default());
    }
    let roles = Role::all(conn)?;
    let teams = provisioning::teams_of(conn, user_ids)?;
    let now_matching = matching_in(&mappings, user_ids, &teams);
    let mut applied = Applied::default();
    for &user_id in user_ids {
        let Some((user, managed)) = people::load_managed(conn, user_id)? else {
            continue;
        };
        if !user.active {
            continue;
        }
        let matching: Vec<&Mapping> = mappings
            .iter()
            .filter(|m| {
                now_matching
                    .get(&user_id)
                    .is_some_and(|ids| ids.contains(&m.id))
            })
            .collect();
        if matching.is_empty() {
            let left_a_deactivating_one = before.get(&user_id).is_some_and(|ids| {
                mappings
                    .iter()
                    .any(|m| m.deactivate_on_leave && ids.contains(&m.id))
            });
            if left_a_deactivating_one {
                users::deactivate(conn, by, &user, &managed, None, now)?;
                applied.deactivated += 1;
            }
            continue;
        }
        let team_ids = teams
            .get(&user_id)
            .map(|ts| ts.iter().map(|t| t.id).collect())
            .unwrap_or_default();
        let current = UserInput::of(&user, team_ids);
        let wanted = wanted(&current, &matching, &roles);
        if wanted != current {
            users::update_user(conn, by, org, user_id, &wanted, now)?;
            applied.changed += 1;
        }
    }
    Ok(applied)
}

/// A mapping as the settings form describes it.
pub struct MappingInput<'a> {
    pub match_kind: Option<MatchKind>,
    pub match_value: &'a str,
    pub user_type: Option<UserType>,
    pub role_id: Option<i64>,
    pub team_ids: &'a [i64],
    pub deactivate_on_leave: bool,
}

const ROLE_NEEDED: Problem = Problem::Rule {
    key: "provisioning.error.role",
    english: "full-time members need a role",
};
const TYPE_NEEDED: Problem = Problem::Rule {
    key: "provisioning.error.type",
    english: "must be full_time or collaborator",
};
const KIND_NEEDED: Problem = Problem::Rule {
    key: "provisioning.error.kind",
    english: "must be display_name or external_id",
};

fn allowed(actor: &Actor) -> Result<(), Refusal> {
    Ok(policy::ensure(
        actor,
        Action::Use(Flag::SettingsIntegrations),
    )?)
}

/// Adds a mapping (admins), audits it, and brings the current members of
/// the groups it matches in line at once, as provisioning.
pub fn create_mapping(
    conn: &mut DbConn,
    by: &By,
    org: &OrgSettings,
    input: &MappingInput,
    now: NaiveDateTime,
) -> Result<i64, Refusal> {
    allowed(by.actor)?;
    let mut fields = Fields::default();
    fields.text("match_value", input.match_value, MAX_MATCH_CHARS);
    if input.match_kind.is_none() {
        fields.add("match_kind", KIND_NEEDED);
    }
    match input.user_type {
        Some(UserType::FullTime) if input.role_id.is_none() => fields.add("role_id", ROLE_NEEDED),
        Some(UserType::FullTime | UserType::Collaborator) => {}
        _ => fields.add("user_type", TYPE_NEEDED),
    }
    if let Some(role) = input.role_id
        && crate::models::role::find(conn, role)?.is_none()
    {
        fields.add(
            "role_id",
            Problem::Unknown {
                key: "users.error.unknown_role",
                english: "no such role",
            },
        );
    }
    let known = Team::all(conn)?;
    if input
        .team_ids
        .iter()
        .any(|t| !known.iter().any(|k| k.id == *t))
    {
        fields.add("team_ids", Problem::UnknownTeam);
    }
    super::check(fields)?;
    let (Some(match_kind), Some(user_type)) = (input.match_kind, input.user_type) else {
        return Err(Refusal::NotFound);
    };
    let role_id = input.role_id.filter(|_| user_type == UserType::FullTime);
    let id = provisioning::create(
        conn,
        &NewMapping {
            match_kind,
            match_value: input.match_value,
            user_type,
            role_id,
            deactivate_on_leave: input.deactivate_on_leave,
            team_ids: input.team_ids,
        },
        now,
    )?;
    audit::record(
        conn,
        by.audit,
        Event {
            action: "provisioning.mapping_created",
            target_type: "provisioning_mapping",
            target_id: Some(id),
            target_label: input.match_value.trim(),
            before: None,
            after: Some(json!({
                "match": match_kind.key(),
                "value": input.match_value.trim(),
                "user_type": user_type.key(),
                "role_id": role_id,
                "team_ids": input.team_ids,
                "deactivate_on_leave": input.deactivate_on_leave,
            })),
        },
        now,
    )?;
    // Those already in a matching group follow it now.
    let mapping = Mapping {
        id,
        match_kind,
        match_value: input.match_value.trim().to_string(),
        user_type,
        role_id,
        deactivate_on_leave: input.deactivate_on_leave,
        created_at: now,
        team_ids: input.team_ids.to_vec(),
    };
    let mut members = Vec::new();
    for team in known.iter().filter(|t| mapping.matches(t)) {
        members.extend(
            crate::models::team::members(conn, team.id)?
                .into_iter()
                .map(|m| m.0),
        );
    }
    members.sort_unstable();
    members.dedup();
    let (actor, audit_actor) = provisioner();
    let as_provisioning = By {
        actor: &actor,
        audit: &audit_actor,
    };
    apply(conn, &as_provisioning, org, &members, &HashMap::new(), now).map_err(refusal_of)?;
    Ok(id)
}

/// Removes a mapping (admins); who it provisioned stays as they are.
pub fn delete_mapping(
    conn: &mut DbConn,
    by: &By,
    id: i64,
    now: NaiveDateTime,
) -> Result<(), Refusal> {
    allowed(by.actor)?;
    let mapping = provisioning::all(conn)?
        .into_iter()
        .find(|m| m.id == id)
        .ok_or(Refusal::NotFound)?;
    provisioning::delete(conn, id)?;
    audit::record(
        conn,
        by.audit,
        Event {
            action: "provisioning.mapping_deleted",
            target_type: "provisioning_mapping",
            target_id: Some(id),
            target_label: &mapping.match_value,
            before: Some(
                json!({ "match": mapping.match_kind.key(), "value": mapping.match_value }),
            ),
            after: None,
        },
        now,
    )?;
    Ok(())
}

/// A user service's outcome as a refusal of this service.
pub fn refusal_of(outcome: Outcome) -> Refusal {
    match outcome {
        Outcome::Failed(e) => Refusal::Database(e),
        Outcome::Denied(d) => Refusal::Forbidden(d),
        Outcome::Unmanageable(rule) => Refusal::Rule(rule.key()),
        Outcome::Refused(refused) => {
            let mut fields = Fields::default();
            fields.add(
                "members",
                Problem::Rule {
                    key: "provisioning.error.member",
                    english: match refused {
                        users::Refusal::CollaboratorAllowance(..) => {
                            "the collaborator allowance is used up"
                        }
                        users::Refusal::LastAdmin => "the last admin must stay an admin",
                        _ => "a member cannot be given what the mapping says",
                    },
                },
            );
            Refusal::Fields(fields)
        }
    }
}
