use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{team_memberships, teams};

#[derive(Queryable, Clone, Debug)]
pub struct Team {
    pub id: i64,
    pub name: String,
    pub created_at: NaiveDateTime,
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

    pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Team>> {
        teams::table.order(teams::name).load(conn)
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

    pub fn ids_of_user(conn: &mut DbConn, user_id: i64) -> QueryResult<Vec<i64>> {
        team_memberships::table
            .filter(team_memberships::user_id.eq(user_id))
            .select(team_memberships::team_id)
            .order(team_memberships::team_id)
            .load(conn)
    }

    /// The user's teams with their member counts (two queries, whatever the size).
    pub fn of_user_with_sizes(conn: &mut DbConn, user_id: i64) -> QueryResult<Vec<(Team, i64)>> {
        let mine = Self::ids_of_user(conn, user_id)?;
        let rows: Vec<(i64, String, NaiveDateTime, i64)> = teams::table
            .inner_join(team_memberships::table)
            .filter(teams::id.eq_any(mine))
            .group_by((teams::id, teams::name, teams::created_at))
            .select((
                teams::id,
                teams::name,
                teams::created_at,
                diesel::dsl::count(team_memberships::user_id),
            ))
            .order(teams::name)
            .load(conn)?;
        Ok(rows
            .into_iter()
            .map(|(id, name, created_at, size)| {
                (
                    Team {
                        id,
                        name,
                        created_at,
                    },
                    size,
                )
            })
            .collect())
    }
}
