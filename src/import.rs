//! Bulk import of users from CSV. `plan` reads the file against the
//! database and says what each row would do, writing nothing; `apply` runs
//! the same plan inside one transaction and carries out the valid rows.
//! Importing the same file twice changes nothing the second time: every row
//! then matches an existing user exactly ("unchanged").

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::QueryResult;

use crate::db::DbConn;
use crate::db::schema::{team_memberships, users};
use crate::i18n::Tr;
use crate::models::org::OrgSettings;
use crate::models::people;
use crate::models::role::Role;
use crate::models::team::Team;
use crate::models::user::{User, normalize_email};
use crate::policy::{self, Actor, UserType};
use crate::services::user_form::{self, UserForm};
use crate::services::users::{self as admin, By, Outcome, UserInput};

pub const COLUMNS: [&str; 10] = [
    "name",
    "email",
    "type",
    "role",
    "teams",
    "language",
    "timezone",
    "conversation_access",
    "access_starts",
    "access_ends",
];

/// The file offered for download on the import page.
pub const TEMPLATE: &str =
    "name,email,type,role,teams,language,timezone,conversation_access,access_starts,access_ends
Ada Lovelace,ada@example.com,full_time,agent,Support;Billing,en,Europe/London,teams,,
Grace Hopper,grace@example.com,collaborator,,Engineering,,America/New_York,all,,
Linus Berg,linus@example.com,seasonal,agent,Support,de,Europe/Berlin,teams,2026-12-01,2027-01-15
";

/// At most this many rows per file.
pub const MAX_ROWS: usize = 20_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RowOutcome {
    Add,
    /// The names of the fields that change.
    Update(Vec<&'static str>),
    Unchanged,
    Error(String),
}

#[derive(Clone, Debug)]
pub struct RowPlan {
    /// Line in the file (the header is line 1).
    pub line: usize,
    pub email: String,
    pub name: String,
    pub outcome: RowOutcome,
    input: Option<UserInput>,
    existing: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub add: usize,
    pub update: usize,
    pub unchanged: usize,
    pub errors: usize,
}

pub fn summarize(plans: &[RowPlan]) -> Summary {
    let mut summary = Summary::default();
    for plan in plans {
        match plan.outcome {
            RowOutcome::Add => summary.add += 1,
            RowOutcome::Update(_) => summary.update += 1,
            RowOutcome::Unchanged => summary.unchanged += 1,
            RowOutcome::Error(_) => summary.errors += 1,
        }
    }
    summary
}

/// A row as read from the file: (line, column -> value).
pub type RawRow = (usize, HashMap<&'static str, String>);

/// Reads the CSV. The header must name the columns (any order; unknown
/// columns are refused so a typo does not silently drop data).
pub fn parse(bytes: &[u8], t: Tr) -> Result<Vec<RawRow>, String> {
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
        .map_err(|_| t.get("import.error.utf8").to_string())?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| t.fmt("import.error.csv", &[("error", &e.to_string())]))?
        .clone();
    let mut columns = Vec::new();
    for header in headers.iter() {
        let name = header.trim().to_lowercase();
        match COLUMNS.iter().find(|c| **c == name) {
            Some(c) => columns.push(*c),
            None => return Err(t.fmt("import.error.column", &[("column", header)])),
        }
    }
    for required in ["name", "email", "type"] {
        if !columns.contains(&required) {
            return Err(t.fmt("import.error.missing_column", &[("column", required)]));
        }
    }
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|e| t.fmt("import.error.csv", &[("error", &e.to_string())]))?;
        if record.iter().all(str::is_empty) {
            continue;
        }
        if rows.len() >= MAX_ROWS {
            return Err(t.fmt("import.error.too_many", &[("max", &MAX_ROWS.to_string())]));
        }
        let values = columns
            .iter()
            .zip(record.iter())
            .map(|(c, v)| (*c, v.to_string()))
            .collect();
        rows.push((index + 2, values));
    }
    if rows.is_empty() {
        return Err(t.get("import.error.empty").to_string());
    }
    Ok(rows)
}

fn normalize_type(text: &str) -> String {
    let key = text.trim().to_lowercase().replace(['-', ' '], "_");
    match key.as_str() {
        "fulltime" => "full_time".into(),
        _ => key,
    }
}

struct Directory {
    users: HashMap<String, (User, Option<Role>)>,
    memberships: HashMap<i64, Vec<i64>>,
    roles: Vec<Role>,
    teams: Vec<Team>,
}

fn load_directory(conn: &mut DbConn) -> QueryResult<Directory> {
    use diesel::prelude::*;
    let all: Vec<(User, Option<Role>)> = users::table
        .left_join(crate::db::schema::roles::table)
        .select((
            users::all_columns,
            crate::db::schema::roles::all_columns.nullable(),
        ))
        .load(conn)?;
    let pairs: Vec<(i64, i64)> = team_memberships::table
        .select((team_memberships::user_id, team_memberships::team_id))
        .load(conn)?;
    let mut memberships: HashMap<i64, Vec<i64>> = HashMap::new();
    for (user, team) in pairs {
        memberships.entry(user).or_default().push(team);
    }
    Ok(Directory {
        users: all
            .into_iter()
            .map(|(u, r)| (u.email.clone(), (u, r)))
            .collect(),
        memberships,
        roles: Role::all(conn)?,
        teams: Team::all(conn)?,
    })
}

/// The stored user described the way the import describes users.
fn current_input(user: &User, teams: Option<&Vec<i64>>) -> UserInput {
    UserInput::of(user, teams.cloned().unwrap_or_default())
}

fn changed_fields(old: &UserInput, new: &UserInput) -> Vec<&'static str> {
    let mut fields = Vec::new();
    let mut check = |name, changed: bool| {
        if changed {
            fields.push(name);
        }
    };
    check("name", old.name != new.name);
    check("type", old.user_type != new.user_type);
    check("role", old.role_id != new.role_id);
    check("teams", old.team_ids != new.team_ids);
    check("language", old.language != new.language);
    check("timezone", old.timezone != new.timezone);
    check("conversation_access", old.access != new.access);
    check("access_starts", old.starts != new.starts);
    check("access_ends", old.ends != new.ends);
    fields
}

/// What each row would do. Writes nothing.
pub fn plan(
    conn: &mut DbConn,
    actor: &Actor,
    org: &OrgSettings,
    rows: &[RawRow],
    t: Tr,
    now: NaiveDateTime,
) -> QueryResult<Vec<RowPlan>> {
    let directory = load_directory(conn)?;
    let seats = people::seats(conn, org, org.today(now))?;
    let mut collaborators = seats.collaborators;
    let mut seen = HashSet::new();
    let mut plans = Vec::with_capacity(rows.len());
    for (line, values) in rows {
        let value = |c: &str| values.get(c).cloned().unwrap_or_default();
        let email = normalize_email(&value("email"));
        let name = value("name");
        let mut plan = RowPlan {
            line: *line,
            email: email.clone(),
            name: name.clone(),
            outcome: RowOutcome::Unchanged,
            input: None,
            existing: None,
        };
        let fail = |plan: &mut RowPlan, message: String| plan.outcome = RowOutcome::Error(message);
        if !seen.insert(email.clone()) {
            fail(&mut plan, t.get("import.error.duplicate").into());
            plans.push(plan);
            continue;
        }
        // Every problem of the row is reported at once, each under its
        // column's name in the file.
        let (mut problems, mut unknown_role) = (Vec::new(), false);
        let role_name = value("role");
        let role_id = match role_name.trim() {
            "" => String::new(),
            wanted => match directory.roles.iter().find(|r| {
                r.name.eq_ignore_ascii_case(wanted)
                    || (r.builtin
                        && (r.key.eq_ignore_ascii_case(wanted)
                            || t.get(&format!("role.{}", r.key))
                                .eq_ignore_ascii_case(wanted)))
            }) {
                Some(role) => role.id.to_string(),
                None => {
                    unknown_role = true;
                    problems.push(format!(
                        "role: {}",
                        t.fmt("import.error.role", &[("role", wanted)])
                    ));
                    String::new()
                }
            },
        };
        let mut team_ids = Vec::new();
        for wanted in value("teams")
            .split([';', '|'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            match directory
                .teams
                .iter()
                .find(|team| team.name.eq_ignore_ascii_case(wanted))
            {
                Some(team) => team_ids.push(team.id.to_string()),
                None => problems.push(format!(
                    "teams: {}",
                    t.fmt("import.error.team", &[("team", wanted)])
                )),
            }
        }
        let access = match value("conversation_access").trim() {
            "" => "all".to_string(),
            other => other.to_lowercase(),
        };
        let form = UserForm {
            user_type: normalize_type(&value("type")),
            name,
            email: email.clone(),
            language: value("language").to_lowercase(),
            timezone: value("timezone"),
            role_id,
            teams: team_ids,
            access,
            starts: value("access_starts"),
            ends: value("access_ends"),
        };
        let validated = user_form::validate(&form, actor, &directory.roles, &directory.teams, t);
        if let Err(errors) = &validated {
            for (field, message) in errors.all() {
                // An unknown role was reported by its name already.
                if !(unknown_role && *field == "role_id") {
                    problems.push(format!("{}: {message}", column_of(field)));
                }
            }
        }
        let mut input = match validated {
            Ok(input) if problems.is_empty() => input,
            _ => {
                fail(&mut plan, problems.join("; "));
                plans.push(plan);
                continue;
            }
        };
        input.team_ids.sort_unstable();
        input.email = email.clone();
        match directory.users.get(&email) {
            Some((user, role)) => {
                plan.existing = Some(user.id);
                let changes = changed_fields(
                    &current_input(user, directory.memberships.get(&user.id)),
                    &input,
                );
                if changes.is_empty() {
                    plan.outcome = RowOutcome::Unchanged;
                } else {
                    let target = people::load_managed_from(user, role.as_ref());
                    if !policy::can_manage_user(actor, &target).0 {
                        fail(&mut plan, t.get("import.error.not_allowed").into());
                    } else if input.user_type == UserType::Collaborator
                        && user.user_type() != UserType::Collaborator
                        && user.active
                        && seats
                            .collaborators_allowed
                            .is_some_and(|allowed| collaborators + 1 > allowed)
                    {
                        fail(
                            &mut plan,
                            allowance_message(t, collaborators, seats.collaborators_allowed),
                        );
                    } else {
                        if input.user_type == UserType::Collaborator
                            && user.user_type() != UserType::Collaborator
                        {
                            collaborators += 1;
                        }
                        plan.outcome = RowOutcome::Update(changes);
                    }
                }
            }
            None => {
                if input.user_type == UserType::Collaborator {
                    if seats
                        .collaborators_allowed
                        .is_some_and(|allowed| collaborators + 1 > allowed)
                    {
                        fail(
                            &mut plan,
                            allowance_message(t, collaborators, seats.collaborators_allowed),
                        );
                        plans.push(plan);
                        continue;
                    }
                    collaborators += 1;
                }
                plan.outcome = RowOutcome::Add;
            }
        }
        if !matches!(plan.outcome, RowOutcome::Error(_)) {
            plan.input = Some(input);
        }
        plans.push(plan);
    }
    Ok(plans)
}

/// The file's column for a field of the user form.
fn column_of(field: &str) -> &str {
    match field {
        "user_type" => "type",
        "role_id" => "role",
        "access" => "conversation_access",
        "starts" => "access_starts",
        "ends" => "access_ends",
        other => other,
    }
}

fn allowance_message(t: Tr, used: i64, allowed: Option<i64>) -> String {
    admin::Refusal::CollaboratorAllowance(used, allowed.unwrap_or(0)).message(t)
}

/// Carries out the valid rows of a fresh plan, in the caller's transaction.
/// Returns (added, updated).
pub fn apply(
    conn: &mut DbConn,
    by: &By,
    org: &OrgSettings,
    plans: &[RowPlan],
    public_url: &str,
    now: NaiveDateTime,
) -> Result<(usize, usize), Outcome> {
    let (mut added, mut updated) = (0, 0);
    for plan in plans {
        let Some(input) = &plan.input else { continue };
        match (&plan.outcome, plan.existing) {
            (RowOutcome::Add, None) => {
                admin::add_user(conn, by, org, input, public_url, now)?;
                added += 1;
            }
            (RowOutcome::Update(_), Some(id)) => {
                admin::update_user(conn, by, org, id, input, now)?;
                updated += 1;
            }
            _ => {}
        }
    }
    Ok((added, updated))
}
