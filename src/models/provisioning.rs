//! Provisioning mappings: a SCIM group (a team), matched by displayName
//! (any case) or externalId (exactly), gives its members a type, a role and
//! teams. A mapping matches a team by what the team is called and carries
//! now, so renaming a group in the identity provider re-matches it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{provisioning_mapping_teams as pmt, provisioning_mappings as pm, teams};
use crate::models::team::Team;
use crate::policy::UserType;

/// How a mapping finds its group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchKind {
    DisplayName,
    ExternalId,
}

impl MatchKind {
    pub fn key(self) -> &'static str {
        match self {
            Self::DisplayName => "display_name",
            Self::ExternalId => "external_id",
        }
    }

    pub fn parse(key: &str) -> Option<Self> {
        [Self::DisplayName, Self::ExternalId]
            .into_iter()
            .find(|k| k.key() == key)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    pub id: i64,
    pub match_kind: MatchKind,
    pub match_value: String,
    /// Full-time or collaborator.
    pub user_type: UserType,
    pub role_id: Option<i64>,
    pub deactivate_on_leave: bool,
    pub created_at: NaiveDateTime,
    /// The teams its members join.
    pub team_ids: Vec<i64>,
}

impl Mapping {
    /// Whether this mapping is about `team` (as a SCIM group).
    pub fn matches(&self, team: &Team) -> bool {
        match self.match_kind {
            MatchKind::DisplayName => {
                team.name.trim().to_lowercase() == self.match_value.trim().to_lowercase()
            }
            MatchKind::ExternalId => team.external_id.as_deref() == Some(self.match_value.as_str()),
        }
    }
}

/// A mapping to store.
pub struct NewMapping<'a> {
    pub match_kind: MatchKind,
    pub match_value: &'a str,
    pub user_type: UserType,
    pub role_id: Option<i64>,
    pub deactivate_on_leave: bool,
    pub team_ids: &'a [i64],
}

type MappingRow = (
    i64,
    String,
    String,
    String,
    Option<i64>,
    bool,
    NaiveDateTime,
);

/// Every mapping, oldest first, with its teams.
pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Mapping>> {
    let rows: Vec<MappingRow> = pm::table
        .order(pm::id)
        .select((
            pm::id,
            pm::match_kind,
            pm::match_value,
            pm::user_type,
            pm::role_id,
            pm::deactivate_on_leave,
            pm::created_at,
        ))
        .load(conn)?;
    let teams: Vec<(i64, i64)> = pmt::table
        .select((pmt::mapping_id, pmt::team_id))
        .order((pmt::mapping_id, pmt::team_id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(
            |(id, kind, value, user_type, role_id, deactivate, created_at)| {
                Some(Mapping {
                    id,
                    match_kind: MatchKind::parse(&kind)?,
                    match_value: value,
                    user_type: UserType::parse(&user_type)?,
                    role_id,
                    deactivate_on_leave: deactivate,
                    created_at,
                    team_ids: teams
                        .iter()
                        .filter(|(m, _)| *m == id)
                        .map(|(_, t)| *t)
                        .collect(),
                })
            },
        )
        .collect())
}

pub fn create(conn: &mut DbConn, new: &NewMapping, now: NaiveDateTime) -> QueryResult<i64> {
    let id: i64 = diesel::insert_into(pm::table)
        .values((
            pm::match_kind.eq(new.match_kind.key()),
            pm::match_value.eq(new.match_value.trim()),
            pm::user_type.eq(new.user_type.key()),
            pm::role_id.eq(new.role_id),
            pm::deactivate_on_leave.eq(new.deactivate_on_leave),
            pm::created_at.eq(now),
        ))
        .returning(pm::id)
        .get_result(conn)?;
    for team in new.team_ids {
        diesel::insert_into(pmt::table)
            .values((pmt::mapping_id.eq(id), pmt::team_id.eq(team)))
            .execute(conn)?;
    }
    Ok(id)
}

pub fn delete(conn: &mut DbConn, id: i64) -> QueryResult<bool> {
    Ok(diesel::delete(pm::table.find(id)).execute(conn)? == 1)
}

/// The teams each of `users` is in, by user.
pub fn teams_of(
    conn: &mut DbConn,
    users: &[i64],
) -> QueryResult<std::collections::HashMap<i64, Vec<Team>>> {
    use crate::db::schema::team_memberships as tm;
    let rows: Vec<(i64, Team)> = tm::table
        .inner_join(teams::table)
        .filter(tm::user_id.eq_any(users))
        .select((tm::user_id, teams::all_columns))
        .load(conn)?;
    let mut by_user: std::collections::HashMap<i64, Vec<Team>> = Default::default();
    for (user, team) in rows {
        by_user.entry(user).or_default().push(team);
    }
    Ok(by_user)
}
