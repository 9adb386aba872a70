//! `/Users`: Confer's users as SCIM resources. `userName` is any unique
//! string (kept apart when it is not the email address; the sign-in address
//! then comes from `emails`, primary first); the one `name` is shown as `displayName`,
//! `name.formatted` and split at its first space into given and family
//! names. Writes build the same `UserInput` as the JSON API and go through
//! `admin`, so SCIM cannot do what the Settings pages would refuse; `active:
//! false` and DELETE deactivate (history stays, the user stays readable).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use diesel::prelude::*;
use serde_json::{Map, Value, json};

use super::filter::{PatchPath, get_ci};
use super::{
    Attributes, ListQuery, OpKind, Provisioner, ScimError, ScimResult, as_bool, check_if_match,
    json_body, object, patch_ops, resource_id, resource_response, run, timestamp, version_of,
};
use crate::api::directory::{UserFields, user_input};
use crate::db::schema::{roles, team_memberships, teams, users};
use crate::db::{DbConn, write_transaction};
use crate::i18n::Lang;
use crate::models::people;
use crate::models::user::User;
use crate::policy::UserType;
use crate::services::users::{self as admin, By, UserInput};
use crate::state::AppState;

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// Confer's own attributes: the type of seat, the role and a seasonal window.
pub const EXTENSION: &str = "urn:ietf:params:scim:schemas:extension:confer:2.0:User";

/// "Mary Ann Smith" → ("Mary", "Ann Smith").
fn split_name(name: &str) -> (String, String) {
    let name = name.trim();
    match name.split_once(' ') {
        Some((given, family)) => (given.to_string(), family.trim().to_string()),
        None => (name.to_string(), String::new()),
    }
}

fn representation(
    base_url: &str,
    user: &User,
    role_key: Option<&str>,
    groups: &[(i64, String)],
) -> Value {
    let (given, family) = split_name(&user.name);
    let mut name = json!({ "formatted": user.name, "givenName": given });
    if !family.is_empty() {
        name["familyName"] = json!(family);
    }
    let mut extension = json!({ "userType": user.user_type });
    if user.user_type() != UserType::Collaborator
        && let Some(role) = role_key
    {
        extension["role"] = json!(role);
    }
    if user.user_type() == UserType::Seasonal {
        extension["accessStarts"] = json!(user.access_starts.map(|d| d.to_string()));
        extension["accessEnds"] = json!(user.access_ends.map(|d| d.to_string()));
    }
    let groups: Vec<Value> = groups
        .iter()
        .map(|(id, name)| {
            json!({
                "value": id.to_string(),
                "display": name,
                "$ref": format!("{base_url}/Groups/{id}"),
            })
        })
        .collect();
    let mut resource = json!({
        "schemas": [USER_SCHEMA, EXTENSION],
        "id": user.id.to_string(),
        "userName": user.scim_user_name.as_deref().unwrap_or(&user.email),
        "name": name,
        "displayName": user.name,
        "emails": [{ "value": user.email, "type": "work", "primary": true }],
        "active": user.active,
        "groups": groups,
        EXTENSION: extension,
        "meta": {
            "resourceType": "User",
            "created": timestamp(user.created_at),
            "lastModified": timestamp(user.updated_at),
            "location": format!("{base_url}/Users/{}", user.id),
        },
    });
    for (key, value) in [
        ("externalId", &user.scim_external_id),
        ("preferredLanguage", &user.language),
        ("timezone", &user.timezone),
    ] {
        if let Some(value) = value {
            resource[key] = json!(value);
        }
    }
    resource["meta"]["version"] = json!(version_of(&resource));
    resource
}

/// Every user (or the one `only`) as a resource, by id: three queries
/// whatever the number of users.
fn load(conn: &mut DbConn, only: Option<i64>, base_url: &str) -> QueryResult<Vec<Value>> {
    let mut query = users::table
        .left_join(roles::table)
        .select((users::all_columns, roles::key.nullable()))
        .order(users::id)
        .into_boxed();
    let mut memberships = team_memberships::table
        .inner_join(teams::table)
        .select((team_memberships::user_id, teams::id, teams::name))
        .order(teams::name)
        .into_boxed();
    if let Some(id) = only {
        query = query.filter(users::id.eq(id));
        memberships = memberships.filter(team_memberships::user_id.eq(id));
    }
    let rows: Vec<(User, Option<String>)> = query.load(conn)?;
    let mut groups: HashMap<i64, Vec<(i64, String)>> = HashMap::new();
    for (user, team, name) in memberships.load::<(i64, i64, String)>(conn)? {
        groups.entry(user).or_default().push((team, name));
    }
    Ok(rows
        .iter()
        .map(|(user, role)| {
            let groups = groups.get(&user.id).map_or(&[][..], Vec::as_slice);
            representation(base_url, user, role.as_deref(), groups)
        })
        .collect())
}

fn load_one(conn: &mut DbConn, id: i64, base_url: &str) -> ScimResult<Value> {
    load(conn, Some(id), base_url)?
        .pop()
        .ok_or_else(|| ScimError::not_found(format!("No user with id {id}.")))
}

/// A user as SCIM describes it, before it is checked and written.
#[derive(Clone, Debug, Default)]
struct Draft {
    email: String,
    given: String,
    family: String,
    /// The whole name when it came as one (`displayName`, `name.formatted`);
    /// otherwise the given and family names joined.
    full: Option<String>,
    external_id: Option<String>,
    /// `userName` as sent; the email address when it looks like one.
    user_name: Option<String>,
    language: Option<Lang>,
    timezone: Option<String>,
    active: bool,
    /// `None` keeps the stored type, role and dates (defaults for a new user).
    user_type: Option<String>,
    role: Option<String>,
    access_starts: Option<NaiveDate>,
    access_ends: Option<NaiveDate>,
}

/// What an attribute path writes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    UserName,
    Email,
    DisplayName,
    Formatted,
    Given,
    Family,
    Name,
    ExternalId,
    Active,
    Language,
    Timezone,
    UserType,
    Role,
    AccessStarts,
    AccessEnds,
    Extension,
    ReadOnly,
    /// Attributes Confer does not keep (title, phoneNumbers, the enterprise
    /// extension…): identity providers send them by default, so they are
    /// accepted and dropped rather than failing the whole provisioning.
    Ignored,
}

fn target(path: &PatchPath) -> Target {
    let attr = &path.attr;
    let name = attr.attr.to_ascii_lowercase();
    let sub = attr.sub.as_deref().map(str::to_ascii_lowercase);
    if let Some(schema) = &attr.schema {
        if sub.is_none() && format!("{schema}:{name}").eq_ignore_ascii_case(EXTENSION) {
            return Target::Extension;
        }
        if schema.eq_ignore_ascii_case(EXTENSION) {
            return match (name.as_str(), sub.as_deref()) {
                ("usertype", None) => Target::UserType,
                ("role", None) => Target::Role,
                ("accessstarts", None) => Target::AccessStarts,
                ("accessends", None) => Target::AccessEnds,
                _ => Target::Ignored,
            };
        }
        if !schema.eq_ignore_ascii_case(USER_SCHEMA) {
            return Target::Ignored;
        }
    }
    match (name.as_str(), sub.as_deref()) {
        ("username", None) => Target::UserName,
        ("displayname", None) => Target::DisplayName,
        ("name", None) => Target::Name,
        ("name", Some("formatted")) => Target::Formatted,
        ("name", Some("givenname")) => Target::Given,
        ("name", Some("familyname")) => Target::Family,
        ("emails", None | Some("value")) => Target::Email,
        ("externalid", None) => Target::ExternalId,
        ("active", None) => Target::Active,
        ("preferredlanguage", None) => Target::Language,
        ("timezone", None) => Target::Timezone,
        ("id" | "meta" | "groups" | "schemas", _) => Target::ReadOnly,
        _ => Target::Ignored,
    }
}

/// Later wins: the name's parts, then `name.formatted`, then `displayName`
/// (Confer's one name); `emails`, then `userName` (the sign-in address).
fn rank(target: Target) -> u8 {
    match target {
        Target::Formatted | Target::UserName => 1,
        Target::DisplayName => 2,
        _ => 0,
    }
}

fn text(value: &Value, name: &str) -> ScimResult<String> {
    match value {
        Value::String(s) => Ok(s.trim().to_string()),
        _ => Err(ScimError::bad(
            "invalidValue",
            format!("{name} must be a string"),
        )),
    }
}

fn optional_text(value: &Value, name: &str) -> ScimResult<Option<String>> {
    if value.is_null() {
        return Ok(None);
    }
    Ok(Some(text(value, name)?).filter(|s| !s.is_empty()))
}

fn date(value: &Value, name: &str) -> ScimResult<Option<NaiveDate>> {
    optional_text(value, name)?
        .map(|s| {
            s.parse().map_err(|_| {
                ScimError::bad(
                    "invalidValue",
                    format!("{name} must be a date (YYYY-MM-DD)"),
                )
            })
        })
        .transpose()
}

/// The address in `emails`: a string, `{value}`, or a list of those (the
/// primary one, else the work one, else the first).
fn email_of(value: &Value) -> ScimResult<String> {
    let chosen = match value {
        Value::Array(items) => items
            .iter()
            .find(|e| get_ci(e, "primary").and_then(as_bool) == Some(true))
            .or_else(|| {
                items.iter().find(|e| {
                    get_ci(e, "type")
                        .and_then(Value::as_str)
                        .is_some_and(|t| t.eq_ignore_ascii_case("work"))
                })
            })
            .or_else(|| items.first())
            .unwrap_or(&Value::Null),
        other => other,
    };
    text(get_ci(chosen, "value").unwrap_or(chosen), "emails.value")
}

impl Draft {
    fn of(user: &User) -> Self {
        let (given, family) = split_name(&user.name);
        Self {
            email: user.email.clone(),
            given,
            family,
            full: Some(user.name.clone()),
            external_id: user.scim_external_id.clone(),
            user_name: user.scim_user_name.clone(),
            language: user.language.as_deref().and_then(Lang::parse),
            timezone: user.timezone.clone(),
            active: user.active,
            user_type: None,
            role: None,
            access_starts: user.access_starts,
            access_ends: user.access_ends,
        }
    }

    fn name(&self) -> String {
        match &self.full {
            Some(full) => full.trim().to_string(),
            None => format!("{} {}", self.given, self.family).trim().to_string(),
        }
    }

    fn set_full(&mut self, name: String) {
        (self.given, self.family) = split_name(&name);
        self.full = Some(name);
    }

    /// A PUT or POST body, or a PATCH value without a path: each key is an
    /// attribute path; read-only attributes are skipped.
    fn apply_map(&mut self, map: &Map<String, Value>, op: OpKind) -> ScimResult<()> {
        let mut targets: Vec<(Target, PatchPath, &String, &Value)> = map
            .iter()
            .filter_map(|(key, value)| {
                let path = super::filter::parse_path(key).ok()?;
                Some((target(&path), path, key, value))
            })
            .filter(|(t, ..)| *t != Target::ReadOnly)
            .collect();
        targets.sort_by_key(|(t, ..)| rank(*t));
        for (target, path, key, value) in targets {
            self.apply(target, &path, op, Some(value), key)?;
        }
        Ok(())
    }

    fn apply(
        &mut self,
        target: Target,
        path: &PatchPath,
        op: OpKind,
        value: Option<&Value>,
        name: &str,
    ) -> ScimResult<()> {
        // `emails[type eq "home"]` is not the address Confer keeps.
        if target == Target::Email
            && let Some(filter) = &path.filter
            && !filter.matches(&json!({ "value": self.email, "type": "work", "primary": true }))
        {
            return Ok(());
        }
        let value = match (op, value) {
            (OpKind::Remove, _) => return self.remove(target, name),
            (_, Some(value)) => value,
            (_, None) => {
                return Err(ScimError::bad(
                    "invalidValue",
                    format!("{name} needs a value"),
                ));
            }
        };
        match target {
            Target::UserName => self.user_name = Some(text(value, name)?).filter(|u| !u.is_empty()),
            Target::Email => self.email = email_of(value)?,
            Target::DisplayName | Target::Formatted => self.set_full(text(value, name)?),
            Target::Given => {
                self.given = text(value, name)?;
                self.full = None;
            }
            Target::Family => {
                self.family = text(value, name)?;
                self.full = None;
            }
            Target::Name | Target::Extension => {
                let Some(map) = value.as_object() else {
                    return Err(ScimError::bad(
                        "invalidValue",
                        format!("{name} must be an object"),
                    ));
                };
                // Their members are paths below them.
                let prefix = if target == Target::Name {
                    "name.".to_string()
                } else {
                    format!("{EXTENSION}:")
                };
                let qualified: Map<String, Value> = map
                    .iter()
                    .map(|(k, v)| (format!("{prefix}{k}"), v.clone()))
                    .collect();
                self.apply_map(&qualified, op)?;
            }
            Target::ExternalId => self.external_id = optional_text(value, name)?,
            Target::Active => {
                self.active = as_bool(value).ok_or_else(|| {
                    ScimError::bad("invalidValue", format!("{name} must be true or false"))
                })?;
            }
            // A language Confer does not offer means the organisation's default.
            Target::Language => {
                self.language = optional_text(value, name)?.as_deref().and_then(Lang::parse);
            }
            Target::Timezone => self.timezone = optional_text(value, name)?,
            Target::UserType => self.user_type = Some(text(value, name)?.to_ascii_lowercase()),
            Target::Role => self.role = Some(text(value, name)?.to_ascii_lowercase()),
            Target::AccessStarts => self.access_starts = date(value, name)?,
            Target::AccessEnds => self.access_ends = date(value, name)?,
            Target::ReadOnly => return Err(read_only(name)),
            Target::Ignored => {}
        }
        Ok(())
    }

    fn remove(&mut self, target: Target, name: &str) -> ScimResult<()> {
        match target {
            Target::ExternalId => self.external_id = None,
            Target::Language => self.language = None,
            Target::Timezone => self.timezone = None,
            Target::Given => {
                self.given.clear();
                self.full = None;
            }
            Target::Family => {
                self.family.clear();
                self.full = None;
            }
            Target::AccessStarts => self.access_starts = None,
            Target::AccessEnds => self.access_ends = None,
            Target::ReadOnly => return Err(read_only(name)),
            Target::Ignored => {}
            _ => {
                return Err(ScimError::bad(
                    "invalidValue",
                    format!("{name} is required and cannot be removed"),
                ));
            }
        }
        Ok(())
    }

    /// A replacement (PUT): what the body does not give is cleared, except
    /// what identity providers do not know about — Confer's extension and
    /// `active` keep their values.
    fn replaced(&self, body: &Map<String, Value>) -> ScimResult<Self> {
        let mut draft = Self {
            active: self.active,
            access_starts: self.access_starts,
            access_ends: self.access_ends,
            ..Self::default()
        };
        draft.apply_map(body, OpKind::Replace)?;
        draft.complete()?;
        Ok(draft)
    }

    /// A `userName` that is an email address is the sign-in address;
    /// another one is kept apart and the address comes from `emails` —
    /// without an address anywhere the request is refused. A user without
    /// any name is named by the address.
    fn complete(&mut self) -> ScimResult<()> {
        if let Some(user_name) = self.user_name.clone()
            && crate::forms::is_email(&user_name)
        {
            self.email = user_name;
            self.user_name = None;
        }
        if self.email.is_empty() {
            return Err(ScimError::bad(
                "invalidValue",
                match &self.user_name {
                    None => "userName is required".to_string(),
                    Some(user_name) => format!(
                        "userName `{user_name}` is not an email address and no address is given \
                         in emails: send the user's email address in emails (primary)"
                    ),
                },
            ));
        }
        if self.name().is_empty() {
            self.full = Some(self.email.clone());
        }
        Ok(())
    }

    /// Checks the draft as the JSON API does (its messages, as
    /// `invalidValue`); the user services ask the policy.
    fn input(&self, conn: &mut DbConn, base: Option<&User>) -> ScimResult<UserInput> {
        let fields = UserFields {
            name: Some(self.name()),
            email: Some(self.email.clone()),
            user_type: self.user_type.clone(),
            role: self.role.clone(),
            language: self.language.map(|l| l.code().to_string()),
            timezone: self.timezone.clone(),
            access_starts: self.access_starts,
            access_ends: self.access_ends,
            ..UserFields::default()
        };
        let mut input = user_input(conn, base, &fields)?;
        // `user_input` keeps the stored value of an absent field; here absent means none.
        input.language = self.language;
        input.timezone = self.timezone.clone();
        Ok(input)
    }
}

fn read_only(name: &str) -> ScimError {
    ScimError::bad("mutability", format!("{name} is read-only"))
}

/// Who SCIM is to the user services.
fn by(p: &Provisioner) -> By<'_> {
    By {
        actor: &p.policy,
        audit: &p.actor,
    }
}

/// Writes the draft over `user`: reactivation first (so the edit is checked
/// as for an active user), the edit, then deactivation.
fn save(conn: &mut DbConn, p: &Provisioner, user: &User, draft: &Draft) -> ScimResult<()> {
    if draft.active && !user.active {
        let (_, managed) =
            people::load_managed(conn, user.id)?.ok_or(diesel::result::Error::NotFound)?;
        admin::reactivate(conn, &by(p), &p.org, user, &managed, p.now)?;
    }
    let input = draft.input(conn, Some(user))?;
    let stored = user_input(conn, Some(user), &UserFields::default()).ok();
    if stored.as_ref() != Some(&input) {
        admin::update_user(conn, &by(p), &p.org, user.id, &input, p.now)?;
    }
    if draft.external_id != user.scim_external_id || draft.user_name != user.scim_user_name {
        admin::set_provisioning_ids(
            conn,
            &by(p),
            user.id,
            draft.user_name.as_deref(),
            draft.external_id.as_deref(),
        )?;
    }
    if !draft.active && user.active {
        deactivate(conn, p, user.id)?;
    }
    Ok(())
}

/// As Settings > Users does it: signed out everywhere, API tokens revoked,
/// open conversations back to their teams' queues, audit entry, webhook.
fn deactivate(conn: &mut DbConn, p: &Provisioner, id: i64) -> ScimResult<()> {
    let (user, managed) = people::load_managed(conn, id)?.ok_or(diesel::result::Error::NotFound)?;
    admin::deactivate(conn, &by(p), &user, &managed, None, p.now)?;
    Ok(())
}

/// Loads the user to change, refusing the Owner and a stale `If-Match`.
fn changeable(
    conn: &mut DbConn,
    p: &Provisioner,
    id: i64,
    if_match: Option<&str>,
) -> ScimResult<User> {
    let (user, managed) = people::load_managed(conn, id)?
        .ok_or_else(|| ScimError::not_found(format!("No user with id {id}.")))?;
    if let (false, rule) = crate::policy::can_manage_user(&p.policy, &managed) {
        return Err(rule.into());
    }
    if let Some(if_match) = if_match {
        check_if_match(if_match, &load_one(conn, id, &p.base_url)?)?;
    }
    Ok(user)
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
    let id = resource_id(&id, "user")?;
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
    let body = json_body(&req, payload).await?;
    let resource = run(&state, move |conn| {
        write_transaction(conn, |conn| {
            let mut draft = Draft {
                active: true,
                ..Draft::default()
            };
            draft.apply_map(object(&body)?, OpKind::Replace)?;
            draft.complete()?;
            let input = draft.input(conn, None)?;
            let id = admin::add_user(conn, &by(&p), &p.org, &input, &p.public_url, p.now)?;
            if draft.external_id.is_some() || draft.user_name.is_some() {
                admin::set_provisioning_ids(
                    conn,
                    &by(&p),
                    id,
                    draft.user_name.as_deref(),
                    draft.external_id.as_deref(),
                )?;
            }
            if !draft.active {
                deactivate(conn, &p, id)?;
            }
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
    let id = resource_id(&id, "user")?;
    let if_match = super::if_match(&req);
    let body = json_body(&req, payload).await?;
    let resource = run(&state, move |conn| {
        write_transaction(conn, |conn| {
            let user = changeable(conn, &p, id, if_match.as_deref())?;
            let draft = Draft::of(&user).replaced(object(&body)?)?;
            save(conn, &p, &user, &draft)?;
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
    let id = resource_id(&id, "user")?;
    let if_match = super::if_match(&req);
    let ops = patch_ops(&json_body(&req, payload).await?)?;
    let resource = run(&state, move |conn| {
        write_transaction(conn, |conn| {
            let user = changeable(conn, &p, id, if_match.as_deref())?;
            let mut draft = Draft::of(&user);
            for op in &ops {
                match &op.path {
                    Some(path) => {
                        draft.apply(target(path), path, op.op, op.value.as_ref(), &op.path_text)?
                    }
                    None => draft
                        .apply_map(object(op.value.as_ref().unwrap_or(&Value::Null))?, op.op)?,
                }
            }
            draft.complete()?;
            save(conn, &p, &user, &draft)?;
            load_one(conn, id, &p.base_url)
        })
    })
    .await?;
    Ok(resource_response(StatusCode::OK, &resource))
}

/// Deactivates (SCIM's DELETE): Confer keeps people's history, so the user
/// stays, inactive, and can be reactivated with `active: true`.
pub async fn delete(
    p: Provisioner,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> ScimResult<HttpResponse> {
    let id = resource_id(&id, "user")?;
    let if_match = super::if_match(&req);
    run(&state, move |conn| {
        write_transaction(conn, |conn| {
            let user = changeable(conn, &p, id, if_match.as_deref())?;
            if user.active {
                deactivate(conn, &p, id)?;
            }
            Ok(())
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
