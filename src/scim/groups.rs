//! `/Groups`: Confer's teams. Every write asks the policy (`teams.manage`)
//! for the provisioning actor; members are users (by id); renames, member
//! changes and deletion are audited as the Teams settings page does them.
//! Deleting a group deletes the team: its conversations stay, without a team.

use std::collections::{BTreeSet, HashMap};

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use diesel::prelude::*;
use serde_json::{Map, Value, json};

use super::filter::{PatchPath, get_ci};
use super::{
    Attributes, ListQuery, OpKind, Provisioner, ScimError, ScimResult, check_if_match, json_body,
    object, patch_ops, resource_id, resource_response, run, timestamp, version_of,
};
use crate::db::schema::{team_memberships, teams, users};
use crate::db::{DbConn, write_transaction};
use crate::models::team::{self, Team};
use crate::policy::{Action, Flag};
use crate::services::Refusal;
use crate::services::provisioning;
use crate::services::teams as team_service;
use crate::state::AppState;

pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

fn representation(base_url: &str, team: &Team, members: &[(i64, String)]) -> Value {
    let members: Vec<Value> = members
        .iter()
        .map(|(id, name)| {
            json!({
                "value": id.to_string(),
                "display": name,
                "type": "User",
                "$ref": format!("{base_url}/Users/{id}"),
            })
        })
        .collect();
    let mut resource = json!({
        "schemas": [GROUP_SCHEMA],
        "id": team.id.to_string(),
        "displayName": team.name,
        "members": members,
        "meta": {
            "resourceType": "Group",
            "created": timestamp(team.created_at),
            "location": format!("{base_url}/Groups/{}", team.id),
        },
    });
    if let Some(external_id) = &team.external_id {
        resource["externalId"] = json!(external_id);
    }
    resource["meta"]["version"] = json!(version_of(&resource));
    resource
}

/// Every team (or the one `only`) as a resource, by id: two queries.
fn load(conn: &mut DbConn, only: Option<i64>, base_url: &str) -> QueryResult<Vec<Value>> {
    let mut query = teams::table.order(teams::id).into_boxed();
    let mut memberships = team_memberships::table
        .inner_join(users::table)
        .select((team_memberships::team_id, users::id, users::name))
        .order(users::name)
        .into_boxed();
    if let Some(id) = only {
        query = query.filter(teams::id.eq(id));
        memberships = memberships.filter(team_memberships::team_id.eq(id));
    }
    let rows: Vec<Team> = query.load(conn)?;
    let mut members: HashMap<i64, Vec<(i64, String)>> = HashMap::new();
    for (team, user, name) in memberships.load::<(i64, i64, String)>(conn)? {
        members.entry(team).or_default().push((user, name));
    }
    Ok(rows
        .iter()
        .map(|team| {
            let members = members.get(&team.id).map_or(&[][..], Vec::as_slice);
            representation(base_url, team, members)
        })
        .collect())
}

fn load_one(conn: &mut DbConn, id: i64, base_url: &str) -> ScimResult<Value> {
    load(conn, Some(id), base_url)?
        .pop()
        .ok_or_else(|| ScimError::not_found(format!("No group with id {id}.")))
}

/// A team as SCIM describes it, before it is checked and written.
#[derive(Clone, Debug, Default)]
struct Draft {
    name: String,
    external_id: Option<String>,
    members: BTreeSet<i64>,
}

/// The user ids of a `members` value: `[{"value": "12"}, …]` or one of them.
fn member_ids(value: &Value) -> ScimResult<Vec<i64>> {
    let items = match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    items
        .into_iter()
        .map(|item| {
            let id = get_ci(item, "value").unwrap_or(item);
            match id {
                Value::String(s) => s.trim().parse().ok(),
                Value::Number(n) => n.as_i64(),
                _ => None,
            }
            .ok_or_else(|| {
                ScimError::bad("invalidValue", format!("members: {id} is not a user id"))
            })
        })
        .collect()
}

/// `externalId`: a string, or null/empty for none.
fn external_id(value: &Value) -> ScimResult<Option<String>> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty())),
        _ => Err(ScimError::bad(
            "invalidValue",
            "externalId must be a string",
        )),
    }
}

fn display_name(value: &Value) -> ScimResult<String> {
    value
        .as_str()
        .map(|s| s.trim().to_string())
        .ok_or_else(|| ScimError::bad("invalidValue", "displayName must be a string"))
}

impl Draft {
    /// A body or a PATCH value without a path: `displayName`, `externalId`
    /// and `members` count; other attributes (`id`, `meta`…) are not kept.
    fn apply_map(&mut self, map: &Map<String, Value>, op: OpKind) -> ScimResult<()> {
        for (key, value) in map {
            if key.eq_ignore_ascii_case("displayName") {
                self.name = display_name(value)?;
            } else if key.eq_ignore_ascii_case("externalId") {
                self.external_id = external_id(value)?;
            } else if key.eq_ignore_ascii_case("members") {
                let ids = member_ids(value)?;
                if op == OpKind::Replace {
                    self.members.clear();
                }
                self.members.extend(ids);
            }
        }
        Ok(())
    }

    fn apply(
        &mut self,
        path: &PatchPath,
        op: OpKind,
        value: Option<&Value>,
        name: &str,
    ) -> ScimResult<()> {
        let attr = &path.attr;
        if attr.attr.eq_ignore_ascii_case("displayName") {
            return match (op, value) {
                (OpKind::Remove, _) => Err(ScimError::bad(
                    "invalidValue",
                    "displayName is required and cannot be removed",
                )),
                (_, Some(value)) => {
                    self.name = display_name(value)?;
                    Ok(())
                }
                (_, None) => Err(ScimError::bad("invalidValue", "displayName needs a value")),
            };
        }
        if attr.attr.eq_ignore_ascii_case("externalId") {
            self.external_id = match (op, value) {
                (OpKind::Remove, _) | (_, None) => None,
                (_, Some(value)) => external_id(value)?,
            };
            return Ok(());
        }
        if attr.attr.eq_ignore_ascii_case("members") {
            match (op, &path.filter, value) {
                _ if attr.sub.is_some() => {
                    return Err(ScimError::bad(
                        "invalidPath",
                        format!("{name}: members are changed as a whole"),
                    ));
                }
                (OpKind::Remove, Some(filter), _) => self
                    .members
                    .retain(|id| !filter.matches(&json!({ "value": id.to_string() }))),
                // Entra removes with `path: members` and the members as the value.
                (OpKind::Remove, None, Some(value)) => {
                    for id in member_ids(value)? {
                        self.members.remove(&id);
                    }
                }
                (OpKind::Remove, None, None) => self.members.clear(),
                (OpKind::Add, None, Some(value)) => self.members.extend(member_ids(value)?),
                (OpKind::Replace, None, Some(value)) => {
                    self.members = member_ids(value)?.into_iter().collect();
                }
                _ => {
                    return Err(ScimError::bad(
                        "invalidPath",
                        format!("{name}: a member filter is supported with remove only"),
                    ));
                }
            }
            return Ok(());
        }
        if ["id", "meta", "schemas"]
            .iter()
            .any(|a| attr.attr.eq_ignore_ascii_case(a))
        {
            return Err(ScimError::bad("mutability", format!("{name} is read-only")));
        }
        Ok(())
    }
}

/// (id, email) of these users; refuses ids that are no user's.
fn users_of(conn: &mut DbConn, ids: &BTreeSet<i64>) -> ScimResult<HashMap<i64, String>> {
    let found: HashMap<i64, String> = users::table
        .filter(users::id.eq_any(ids.iter().copied().collect::<Vec<_>>()))
        .select((users::id, users::email))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    if let Some(missing) = ids.iter().find(|id| !found.contains_key(id)) {
        return Err(ScimError::bad(
            "invalidValue",
            format!("members: no user with id {missing}"),
        ));
    }
    Ok(found)
}

/// Runs a write to one group, then brings its members before and after
/// (`affected`) in line with the provisioning mappings (Settings >
/// Provisioning), as provisioning: joining a mapped group gives its type,
/// role and teams; leaving every one may deactivate.
fn following_mappings<T>(
    conn: &mut DbConn,
    p: &Provisioner,
    affected: &BTreeSet<i64>,
    write: impl FnOnce(&mut DbConn) -> ScimResult<T>,
) -> ScimResult<T> {
    let mappings = crate::models::provisioning::all(conn)?;
    if mappings.is_empty() {
        return write(conn);
    }
    let affected: Vec<i64> = affected.iter().copied().collect();
    let before = provisioning::matched(conn, &mappings, &affected)?;
    let written = write(conn)?;
    let by = crate::services::By {
        actor: &p.policy,
        audit: &p.actor,
    };
    provisioning::apply(conn, &by, &p.org, &affected, &before, p.now)?;
    Ok(written)
}

/// Creates the team (`before` none) or brings it to the draft: name, then
/// members — each a `services::teams` write, audited as on the Teams page —
/// and its members old and new then follow the provisioning mappings.
fn save(
    conn: &mut DbConn,
    p: &Provisioner,
    before: Option<&(Team, BTreeSet<i64>)>,
    draft: &Draft,
) -> ScimResult<i64> {
    let empty = BTreeSet::new();
    let affected: BTreeSet<i64> = draft
        .members
        .union(before.map_or(&empty, |(_, m)| m))
        .copied()
        .collect();
    following_mappings(conn, p, &affected, |conn| {
        write_group(conn, p, before, draft)
    })
}

fn write_group(
    conn: &mut DbConn,
    p: &Provisioner,
    before: Option<&(Team, BTreeSet<i64>)>,
    draft: &Draft,
) -> ScimResult<i64> {
    let ctx = team_service::Ctx {
        actor: &p.policy,
        audit: &p.actor,
        now: p.now,
    };
    let empty = BTreeSet::new();
    let old_members = before.map_or(&empty, |(_, m)| m);
    // Every member named must be a user (the message names the first one not).
    users_of(conn, &draft.members.union(old_members).copied().collect())?;
    let team = match before {
        None => {
            let id = team_service::create(conn, &ctx, &draft.name)?;
            Team::find(conn, id)?.ok_or(diesel::result::Error::NotFound)?
        }
        Some((team, _)) => {
            team_service::rename(conn, &ctx, team, &draft.name)?;
            Team::find(conn, team.id)?.ok_or(diesel::result::Error::NotFound)?
        }
    };
    if team.external_id != draft.external_id {
        team_service::set_external_id(conn, &ctx, &team, draft.external_id.as_deref())?;
    }
    for user in draft.members.difference(old_members) {
        team_service::set_member(conn, &ctx, &team, *user, true)?;
    }
    for user in old_members.difference(&draft.members) {
        team_service::set_member(conn, &ctx, &team, *user, false)?;
    }
    Ok(team.id)
}

/// The team service's refusals in SCIM's words.
impl From<Refusal> for ScimError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Fields(fields) if fields.has(&team_service::NAME_TAKEN) => {
                ScimError::uniqueness("Another group has this displayName.")
            }
            Refusal::Fields(_) => ScimError::bad(
                "invalidValue",
                format!(
                    "displayName is required (at most {} characters)",
                    team_service::MAX_NAME_CHARS
                ),
            ),
            Refusal::NotFound => ScimError::not_found("No such group or user."),
            Refusal::Forbidden(denied) => denied.into(),
            Refusal::Rule(key) => ScimError::new(
                actix_web::http::StatusCode::FORBIDDEN,
                None,
                format!("Refused by {key}."),
            ),
            Refusal::Database(e) => e.into(),
        }
    }
}

/// Loads the team to change with its members, refusing a stale `If-Match`.
fn changeable(
    conn: &mut DbConn,
    p: &Provisioner,
    id: i64,
    if_match: Option<&str>,
) -> ScimResult<(Team, BTreeSet<i64>)> {
    let team = Team::find(conn, id)?
        .ok_or_else(|| ScimError::not_found(format!("No group with id {id}.")))?;
    if let Some(if_match) = if_match {
        check_if_match(if_match, &load_one(conn, id, &p.base_url)?)?;
    }
    let members = team::members(conn, id)?
        .into_iter()
        .map(|(user, ..)| user)
        .collect();
    Ok((team, members))
}

pub async fn list(
    p: Provisioner,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> ScimResult<HttpResponse> {
    let query = ListQuery::parse(&req)?;
    let resources = run(&state, move |conn| Ok(load(conn, None, &p.base_url)?)).await?;
    Ok(query.respond(resources))
}

pub async fn show(
    p: Provisioner,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> ScimResult<HttpResponse> {
    let id = resource_id(&id, "group")?;
    let attributes = Attributes::parse(&req)?;
    let resource = run(&state, move |conn| load_one(conn, id, &p.base_url)).await?;
    Ok(resource_response(
        StatusCode::OK,
        &attributes.apply(resource),
    ))
}

pub async fn create(
    p: Provisioner,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> ScimResult<HttpResponse> {
    crate::policy::ensure(&p.policy, Action::Use(Flag::TeamsManage))?;
    let body = json_body(&req, payload).await?;
    let resource = run(&state, move |conn| {
        write_transaction(conn, |conn| {
            let mut draft = Draft::default();
            draft.apply_map(object(&body)?, OpKind::Replace)?;
            let id = save(conn, &p, None, &draft)?;
            load_one(conn, id, &p.base_url)
        })
    })
    .await?;
    Ok(resource_response(StatusCode::CREATED, &resource))
}

pub async fn replace(
    p: Provisioner,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> ScimResult<HttpResponse> {
    crate::policy::ensure(&p.policy, Action::Use(Flag::TeamsManage))?;
    let id = resource_id(&id, "group")?;
    let if_match = super::if_match(&req);
    let body = json_body(&req, payload).await?;
    let resource = run(&state, move |conn| {
        write_transaction(conn, |conn| {
            let before = changeable(conn, &p, id, if_match.as_deref())?;
            let mut draft = Draft::default();
            draft.apply_map(object(&body)?, OpKind::Replace)?;
            save(conn, &p, Some(&before), &draft)?;
            load_one(conn, id, &p.base_url)
        })
    })
    .await?;
    Ok(resource_response(StatusCode::OK, &resource))
}

pub async fn patch(
    p: Provisioner,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> ScimResult<HttpResponse> {
    crate::policy::ensure(&p.policy, Action::Use(Flag::TeamsManage))?;
    let id = resource_id(&id, "group")?;
    let if_match = super::if_match(&req);
    let ops = patch_ops(&json_body(&req, payload).await?)?;
    let resource = run(&state, move |conn| {
        write_transaction(conn, |conn| {
            let before = changeable(conn, &p, id, if_match.as_deref())?;
            let mut draft = Draft {
                name: before.0.name.clone(),
                external_id: before.0.external_id.clone(),
                members: before.1.clone(),
            };
            for op in &ops {
                match &op.path {
                    Some(path) => draft.apply(path, op.op, op.value.as_ref(), &op.path_text)?,
                    None => draft
                        .apply_map(object(op.value.as_ref().unwrap_or(&Value::Null))?, op.op)?,
                }
            }
            save(conn, &p, Some(&before), &draft)?;
            load_one(conn, id, &p.base_url)
        })
    })
    .await?;
    Ok(resource_response(StatusCode::OK, &resource))
}

/// Deletes the team; its conversations stay, without a team.
pub async fn delete(
    p: Provisioner,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> ScimResult<HttpResponse> {
    crate::policy::ensure(&p.policy, Action::Use(Flag::TeamsManage))?;
    let id = resource_id(&id, "group")?;
    let if_match = super::if_match(&req);
    run(&state, move |conn| {
        write_transaction(conn, |conn| {
            let (team, members) = changeable(conn, &p, id, if_match.as_deref())?;
            let ctx = team_service::Ctx {
                actor: &p.policy,
                audit: &p.actor,
                now: p.now,
            };
            following_mappings(conn, &p, &members, |conn| {
                Ok(team_service::delete(conn, &ctx, &team, None)?)
            })
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
