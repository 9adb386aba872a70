//! One change to many users at once (Settings > Users, `POST
//! /api/v1/users/batch`): change their role, add or remove teams, set their
//! conversation access or type, resend or revoke their invitations, or
//! deactivate them with one hand-back choice. Each selected user goes
//! through the service function a single change uses (`users::update_user`,
//! `deactivate`, `resend_invitation`, `revoke_invitation`), so the policy
//! decides per user and each change is audited per user; each user's
//! change runs in its own savepoint, so a refused user changes nothing and
//! the others go ahead, all in the caller's transaction. The collaborator
//! allowance counts the users the batch already made collaborators. A
//! preview runs exactly the same and rolls it all back: it shows what
//! applying does.

use chrono::NaiveDateTime;
use diesel::Connection;

use super::By;
use super::users::{self, Outcome, UserInput};
use crate::db::DbConn;
use crate::models::org::OrgSettings;
use crate::models::people;
use crate::models::team::Team;
use crate::models::user::User;
use crate::policy::{ConversationAccess, Denied, ManageRule, UserType};

/// The most users one batch changes.
pub const MAX_USERS: usize = 1000;

/// What to do to every selected user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Role(i64),
    AddTeams(Vec<i64>),
    RemoveTeams(Vec<i64>),
    Access(ConversationAccess),
    /// Full-time or collaborator (a seasonal user needs their own window);
    /// becoming full-time takes this role when they hold none.
    Type {
        user_type: UserType,
        role_id: Option<i64>,
    },
    ResendInvitation,
    RevokeInvitation,
    /// Their open conversations go to this person, or back to their teams.
    Deactivate {
        reassign_to: Option<i64>,
    },
}

/// Why one user was left as they were.
#[derive(Debug)]
pub enum Refused {
    /// No such user.
    NotFound,
    Denied(Denied),
    Unmanageable(ManageRule),
    Refused(users::Refusal),
    /// The change does not apply to them: its catalog key and English.
    NotApplicable {
        key: &'static str,
        english: &'static str,
    },
}

/// What happened to one user.
#[derive(Debug)]
pub enum ItemResult {
    Changed,
    /// Already so: nothing to do.
    Unchanged,
    Refused(Refused),
}

/// One selected user and what happened to them.
#[derive(Debug)]
pub struct Item {
    pub user_id: i64,
    /// Empty when there is no such user.
    pub name: String,
    pub email: String,
    pub result: ItemResult,
}

/// A step's failure: a refusal (the user's savepoint is rolled back) or
/// the database (the whole batch fails).
enum Stop {
    Refused(Refused),
    Database(diesel::result::Error),
}

impl From<diesel::result::Error> for Stop {
    fn from(e: diesel::result::Error) -> Self {
        Self::Database(e)
    }
}

impl From<Outcome> for Stop {
    fn from(o: Outcome) -> Self {
        match o {
            Outcome::Failed(e) => Self::Database(e),
            Outcome::Denied(d) => Self::Refused(Refused::Denied(d)),
            Outcome::Unmanageable(rule) => Self::Refused(Refused::Unmanageable(rule)),
            Outcome::Refused(r) => Self::Refused(Refused::Refused(r)),
        }
    }
}

const COLLABORATOR_ROLE: Refused = Refused::NotApplicable {
    key: "users.bulk.error.collaborator_role",
    english: "collaborators hold no role",
};
const NEEDS_ROLE: Refused = Refused::NotApplicable {
    key: "users.bulk.error.needs_role",
    english: "choose a role for users who become full-time",
};
const SEASONAL: Refused = Refused::NotApplicable {
    key: "users.bulk.error.seasonal",
    english: "a seasonal user needs their own window: change them one by one",
};
const NOT_PENDING: Refused = Refused::NotApplicable {
    key: "users.bulk.error.not_pending",
    english: "has no pending invitation",
};

/// Where and by whom.
pub struct Batch<'a> {
    pub by: &'a By<'a>,
    pub org: &'a OrgSettings,
    pub public_url: &'a str,
    pub now: NaiveDateTime,
}

/// Applies `change` to each of `user_ids` (at most `MAX_USERS`, the
/// caller's order, duplicates once) in the caller's transaction.
pub fn apply(
    conn: &mut DbConn,
    batch: &Batch,
    user_ids: &[i64],
    change: &Change,
) -> diesel::QueryResult<Vec<Item>> {
    let mut seen = std::collections::HashSet::new();
    let mut items = Vec::new();
    for &id in user_ids.iter().filter(|id| seen.insert(**id)) {
        let found = User::find(conn, id)?;
        let (name, email) = found
            .as_ref()
            .map(|u| (u.name.clone(), u.email.clone()))
            .unwrap_or_default();
        let step = conn.transaction(|conn| one(conn, batch, id, change));
        let result = match step {
            Ok(true) => ItemResult::Changed,
            Ok(false) => ItemResult::Unchanged,
            Err(Stop::Refused(refused)) => ItemResult::Refused(refused),
            Err(Stop::Database(e)) => return Err(e),
        };
        items.push(Item {
            user_id: id,
            name,
            email,
            result,
        });
    }
    Ok(items)
}

/// What `apply` would do, written nowhere: the same run, rolled back.
pub fn preview(
    conn: &mut DbConn,
    batch: &Batch,
    user_ids: &[i64],
    change: &Change,
) -> diesel::QueryResult<Vec<Item>> {
    enum Preview {
        Done(Vec<Item>),
        Failed(diesel::result::Error),
    }
    impl From<diesel::result::Error> for Preview {
        fn from(e: diesel::result::Error) -> Self {
            Self::Failed(e)
        }
    }
    let outcome: Result<(), Preview> = conn.transaction(|conn| {
        let items = apply(conn, batch, user_ids, change)?;
        Err(Preview::Done(items))
    });
    match outcome {
        Err(Preview::Done(items)) => Ok(items),
        Err(Preview::Failed(e)) => Err(e),
        Ok(()) => Ok(Vec::new()),
    }
}

/// Changes one user; whether anything changed.
fn one(conn: &mut DbConn, batch: &Batch, id: i64, change: &Change) -> Result<bool, Stop> {
    let (user, managed) =
        people::load_managed(conn, id)?.ok_or(Stop::Refused(Refused::NotFound))?;
    let pending = user.active && user.password_hash.is_none();
    let edit = |conn: &mut DbConn, input: &UserInput| -> Result<bool, Stop> {
        users::update_user(conn, batch.by, batch.org, id, input, batch.now)?;
        Ok(true)
    };
    let current = UserInput::of(&user, Team::ids_of_user(conn, id)?);
    let mut wanted = current.clone();
    match change {
        Change::Role(role_id) => {
            if user.user_type() == UserType::Collaborator {
                return Err(Stop::Refused(COLLABORATOR_ROLE));
            }
            wanted.role_id = Some(*role_id);
        }
        Change::AddTeams(teams) => {
            wanted.team_ids.extend(teams);
            wanted.team_ids.sort_unstable();
            wanted.team_ids.dedup();
        }
        Change::RemoveTeams(teams) => wanted.team_ids.retain(|t| !teams.contains(t)),
        Change::Access(access) => wanted.access = *access,
        Change::Type { user_type, role_id } => {
            if *user_type == UserType::Seasonal
                || (user.user_type() == UserType::Seasonal && *user_type != UserType::Seasonal)
            {
                return Err(Stop::Refused(SEASONAL));
            }
            wanted.user_type = *user_type;
            if *user_type == UserType::FullTime && user.role_id.is_none() {
                wanted.role_id = Some(role_id.ok_or(Stop::Refused(NEEDS_ROLE))?);
            }
        }
        Change::ResendInvitation | Change::RevokeInvitation if !pending => {
            return Err(Stop::Refused(NOT_PENDING));
        }
        Change::ResendInvitation => {
            users::resend_invitation(
                conn,
                batch.by,
                batch.org,
                &user,
                &managed,
                batch.public_url,
                batch.now,
            )?;
            return Ok(true);
        }
        Change::RevokeInvitation => {
            users::revoke_invitation(conn, batch.by, &user, &managed, batch.now)?;
            return Ok(true);
        }
        Change::Deactivate { reassign_to } => {
            if !user.active {
                return Ok(false);
            }
            users::deactivate(conn, batch.by, &user, &managed, *reassign_to, batch.now)?;
            return Ok(true);
        }
    }
    if wanted == current {
        return Ok(false);
    }
    edit(conn, &wanted)
}
