//! Teams and their members as stored. The writes are called only by
//! `services::teams` (and the demo fixture).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{team_memberships, teams};

#[derive(Queryable, Clone, Debug)]
pub struct Team {
    pub id: i64,
    pub name: String,
    #[diesel(deserialize_as = crate::db::StoredTime)]
    pub created_at: NaiveDateTime,
    /// The identity provider's id, when SCIM manages the team as a group.
    pub external_id: Option<String>,
}

/// A team as a picker offers it.
#[derive(Queryable, Clone, Debug)]
pub struct TeamChoice {
    pub id: i64,
    pub name: String,
}

#[derive(Insertable)]
#[diesel(table_name = teams)]
pub struct NewTeam<'a> {
    pub name: &'a str,
    pub created_at: NaiveDateTime,
}

impl Team {
    pub fn create(conn: &mut DbConn, new: &NewTeam) -> QueryResult<i64> {
        diesel::insert_into(teams::table)
            .values(new)
            .returning(teams::id)
            .get_result(conn)
    }

    /// Every team's id and name, by name, as pickers offer them: read
    /// from the name index alone.
    pub fn choices(conn: &mut DbConn) -> QueryResult<Vec<TeamChoice>> {
        crate::on_backend!(conn, |c| teams::table
            .select((teams::id, teams::name))
            .order(teams::name)
            .load(c))
    }

    pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Team>> {
        crate::on_backend!(conn, |c| teams::table.order(teams::name).load(c))
    }

    pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<Team>> {
        teams::table.find(id).first(conn).optional()
    }

    pub fn add_member(conn: &mut DbConn, team_id: i64, user_id: i64) -> QueryResult<()> {
        diesel::insert_into(team_memberships::table)
            .values((
                team_memberships::team_id.eq(team_id),
                team_memberships::user_id.eq(user_id),
            ))
            .execute(conn)
            .map(|_| ())
    }

    /// Puts `user_id` in each of `team_ids` with one statement.
    pub fn add_memberships(conn: &mut DbConn, user_id: i64, team_ids: &[i64]) -> QueryResult<()> {
        if team_ids.is_empty() {
            return Ok(());
        }
        let rows: Vec<_> = team_ids
            .iter()
            .map(|&team| {
                (
                    team_memberships::team_id.eq(team),
                    team_memberships::user_id.eq(user_id),
                )
            })
            .collect();
        let insert = diesel::insert_into(team_memberships::table).values(rows);
        // Multi-row inserts do not go through the MultiConnection enum.
        match conn {
            DbConn::Sqlite(c) => insert.execute(c),
            DbConn::Postgresql(c) => insert.execute(c),
        }
        .map(|_| ())
    }

    pub fn ids_of_user(conn: &mut DbConn, user_id: i64) -> QueryResult<Vec<i64>> {
        crate::on_backend!(conn, |c| team_memberships::table
            .filter(team_memberships::user_id.eq(user_id))
            .select(team_memberships::team_id)
            .order(team_memberships::team_id)
            .load(c))
    }

    /// The user's teams with their member counts (two queries, whatever the size).
    pub fn of_user_with_sizes(conn: &mut DbConn, user_id: i64) -> QueryResult<Vec<(Team, i64)>> {
        let mine = Self::ids_of_user(conn, user_id)?;
        let rows: Vec<(i64, String, NaiveDateTime, Option<String>, i64)> = teams::table
            .inner_join(team_memberships::table)
            .filter(teams::id.eq_any(mine))
            .group_by((
                teams::id,
                teams::name,
                teams::created_at,
                teams::external_id,
            ))
            .select((
                teams::id,
                teams::name,
                teams::created_at,
                teams::external_id,
                diesel::dsl::count(team_memberships::user_id),
            ))
            .order(teams::name)
            .load(conn)?;
        Ok(rows
            .into_iter()
            .map(|(id, name, created_at, external_id, size)| {
                (
                    Team {
                        id,
                        name,
                        created_at,
                        external_id,
                    },
                    size,
                )
            })
            .collect())
    }
}

/// Every team with its member count, in one query.
pub fn all_with_sizes(conn: &mut DbConn) -> QueryResult<Vec<(Team, i64)>> {
    type Row = (i64, String, NaiveDateTime, Option<String>, Option<i64>);
    let rows: Vec<Row> = teams::table
        .left_join(team_memberships::table)
        .group_by((
            teams::id,
            teams::name,
            teams::created_at,
            teams::external_id,
        ))
        .select((
            teams::id,
            teams::name,
            teams::created_at,
            teams::external_id,
            diesel::dsl::count(team_memberships::user_id.nullable()).nullable(),
        ))
        .order(teams::name)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, name, created_at, external_id, size)| {
            (
                Team {
                    id,
                    name,
                    created_at,
                    external_id,
                },
                size.unwrap_or(0),
            )
        })
        .collect())
}

/// (id, name, email, collaborator?) of the team's members, by name.
pub fn members(
    conn: &mut DbConn,
    team_id: i64,
) -> QueryResult<Vec<(i64, String, String, crate::policy::UserType)>> {
    use crate::db::schema::users;
    users::table
        .inner_join(team_memberships::table)
        .filter(team_memberships::team_id.eq(team_id))
        .select((users::id, users::name, users::email, users::user_type))
        .order(users::name)
        .load(conn)
}

pub fn name_taken(conn: &mut DbConn, name: &str, except: Option<i64>) -> QueryResult<bool> {
    let mut query = teams::table
        .filter(crate::db::lower(teams::name).eq(name.trim().to_lowercase()))
        .into_boxed();
    if let Some(id) = except {
        query = query.filter(teams::id.ne(id));
    }
    Ok(query.count().get_result::<i64>(conn)? > 0)
}

pub fn rename(conn: &mut DbConn, id: i64, name: &str) -> QueryResult<()> {
    diesel::update(teams::table.find(id))
        .set(teams::name.eq(name.trim()))
        .execute(conn)
        .map(|_| ())
}

pub fn remove_member(conn: &mut DbConn, team_id: i64, user_id: i64) -> QueryResult<usize> {
    diesel::delete(
        team_memberships::table
            .filter(team_memberships::team_id.eq(team_id))
            .filter(team_memberships::user_id.eq(user_id)),
    )
    .execute(conn)
}

/// Deletes a team; its members (if any) join `move_to` first, and its
/// conversations move there too (or lose their team).
pub fn delete(conn: &mut DbConn, id: i64, move_to: Option<i64>) -> QueryResult<()> {
    use crate::db::schema::conversations;
    if let Some(target) = move_to {
        let members: Vec<i64> = team_memberships::table
            .filter(team_memberships::team_id.eq(id))
            .select(team_memberships::user_id)
            .load(conn)?;
        let already: Vec<i64> = team_memberships::table
            .filter(team_memberships::team_id.eq(target))
            .select(team_memberships::user_id)
            .load(conn)?;
        for user in members.into_iter().filter(|u| !already.contains(u)) {
            Team::add_member(conn, target, user)?;
        }
    }
    diesel::update(conversations::table.filter(conversations::team_id.eq(id)))
        .set(conversations::team_id.eq(move_to))
        .execute(conn)?;
    diesel::delete(team_memberships::table.filter(team_memberships::team_id.eq(id)))
        .execute(conn)?;
    diesel::delete(teams::table.find(id))
        .execute(conn)
        .map(|_| ())
}

/// Sets (or clears) the identity provider's id of a team.
pub fn set_external_id(conn: &mut DbConn, id: i64, external_id: Option<&str>) -> QueryResult<()> {
    diesel::update(teams::table.find(id))
        .set(teams::external_id.eq(external_id))
        .execute(conn)
        .map(|_| ())
}

crate::sql_per_backend!(
    /// The ids of the selected user's teams as one SQL value (`"3,7"`; NULL
    /// for none), read in the same statement as the user (`User::load_actor`)
    /// instead of a statement of its own.
    TeamIdsOfUser,
    diesel::sql_types::Nullable<diesel::sql_types::Text>,
    sqlite: "(SELECT group_concat(team_memberships.team_id) FROM team_memberships \
             WHERE team_memberships.user_id = users.id)",
    postgres: "(SELECT string_agg(team_memberships.team_id::text, ',') FROM team_memberships \
               WHERE team_memberships.user_id = users.id)",
);

/// `TeamIdsOfUser`'s value as ids, in order.
pub fn team_ids_from(list: Option<&str>) -> Vec<i64> {
    let mut ids: Vec<i64> = list
        .unwrap_or_default()
        .split(',')
        .filter_map(|id| id.parse().ok())
        .collect();
    ids.sort_unstable();
    ids
}
