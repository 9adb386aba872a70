//! Managing people and roles: who may add, edit, deactivate which user and
//! give which role, and who may define which custom role. Nobody reaches
//! above their own flags; the owner changes only by ownership transfer.

use super::*;

/// A user someone wants to add, edit, deactivate or reactivate.
#[derive(Clone, Debug)]
pub struct ManagedUser {
    pub user_id: i64,
    pub user_type: UserType,
    pub role: Option<RoleGrant>,
}

impl ManagedUser {
    pub fn is_owner(&self) -> bool {
        self.role.as_ref().and_then(|r| r.builtin) == Some(BuiltinRole::Owner)
    }
}

/// Why a user-management step is allowed or refused. Each has a message
/// (`policy.manage.<key>`) the UI shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ManageRule {
    /// The actor may add and deactivate agents and collaborators.
    ManagesUsers,
    /// The actor may manage admins and roles above their own.
    ManagesAdmins,
    /// The actor may not manage users at all.
    CannotManageUsers,
    /// The owner is changed only by ownership transfer.
    OwnerProtected,
    /// The role (or the user's current role) carries more than the actor's
    /// own permissions, or is Admin: only those who manage admins may.
    RoleAboveYours,
    /// Nobody deactivates themselves.
    NotYourself,
    /// Only those who manage admins may do this (reset a second factor).
    AdminsOnly,
}

impl ManageRule {
    pub fn key(self) -> &'static str {
        match self {
            Self::ManagesUsers => "policy.manage.manages_users",
            Self::ManagesAdmins => "policy.manage.manages_admins",
            Self::CannotManageUsers => "policy.manage.cannot_manage_users",
            Self::OwnerProtected => "policy.manage.owner_protected",
            Self::RoleAboveYours => "policy.manage.role_above_yours",
            Self::NotYourself => "policy.manage.not_yourself",
            Self::AdminsOnly => "policy.manage.admins_only",
        }
    }
}

/// The organisation always keeps an active admin: a change that would leave
/// none — deactivating the last one, or taking their Admin role away — is
/// refused, whoever asks (the browser, the API or SCIM). `active_admins`
/// counts the active admins before the change.
pub fn keeps_an_admin(target_is_active_admin: bool, stays_admin: bool, active_admins: i64) -> bool {
    !target_is_active_admin || stays_admin || active_admins > 1
}

/// Every flag this actor holds (a collaborator's fixed capabilities included).
pub fn actor_flags(actor: &Actor) -> FlagSet {
    FlagSet::of(
        &Flag::ALL
            .iter()
            .copied()
            .filter(|&f| flag_decision(actor, f).allowed)
            .collect::<Vec<_>>(),
    )
}

/// The one ceiling on roles: nobody hands out, defines or manages a role
/// carrying a flag they do not hold themselves.
fn within_own_flags(actor: &Actor, flags: FlagSet) -> bool {
    flags.is_subset_of(actor_flags(actor))
}

fn manage_decision(actor: &Actor, role: Option<&RoleGrant>) -> (bool, ManageRule) {
    if !can(actor, Action::Use(Flag::UsersManage)).allowed {
        return (false, ManageRule::CannotManageUsers);
    }
    match role {
        Some(r) if !within_own_flags(actor, r.flags) => (false, ManageRule::RoleAboveYours),
        // Admin is a role above every manager even when its flags are not.
        Some(r) if matches!(r.builtin, Some(BuiltinRole::Admin | BuiltinRole::Owner)) => {
            if can(actor, Action::Use(Flag::UsersManageAdmins)).allowed {
                (true, ManageRule::ManagesAdmins)
            } else {
                (false, ManageRule::RoleAboveYours)
            }
        }
        _ => (true, ManageRule::ManagesUsers),
    }
}

/// May `actor` give someone this type and role (adding or editing)?
/// Nobody grants Owner here: ownership moves only by transfer.
pub fn can_grant(
    actor: &Actor,
    user_type: UserType,
    role: Option<&RoleGrant>,
) -> (bool, ManageRule) {
    let role = if user_type == UserType::Collaborator {
        None
    } else {
        role
    };
    if role.and_then(|r| r.builtin) == Some(BuiltinRole::Owner) {
        return (false, ManageRule::OwnerProtected);
    }
    manage_decision(actor, role)
}

/// May `actor` edit, deactivate or reactivate `target`?
pub fn can_manage_user(actor: &Actor, target: &ManagedUser) -> (bool, ManageRule) {
    if target.is_owner() {
        return (false, ManageRule::OwnerProtected);
    }
    manage_decision(actor, target.role.as_ref())
}

/// Deactivation adds one rule: never yourself. (Never the last admin is
/// checked where the count of admins is known.)
pub fn can_deactivate(actor: &Actor, target: &ManagedUser) -> (bool, ManageRule) {
    if actor.user_id == target.user_id {
        return (false, ManageRule::NotYourself);
    }
    can_manage_user(actor, target)
}

/// The flags this actor may put into a custom role: their own, never more
/// than Admin holds (the plan stays the owner's).
pub fn grantable_flags(actor: &Actor) -> FlagSet {
    FlagSet::of(
        &actor_flags(actor)
            .iter()
            .filter(|&f| BuiltinRole::Admin.flags().contains(f))
            .collect::<Vec<_>>(),
    )
}

/// A change to the definition of a custom role.
#[derive(Clone, Copy, Debug)]
pub enum RoleChange<'a> {
    Create {
        flags: FlagSet,
    },
    Edit {
        role: &'a RoleGrant,
        flags: FlagSet,
    },
    /// Deleting a role; its users (if any) move to `move_to`.
    Delete {
        role: &'a RoleGrant,
        move_to: Option<&'a RoleGrant>,
    },
}

/// Why a change to a role is allowed or refused; each has a message
/// (`policy.role.<key>`) the roles page shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleRule {
    /// The actor manages roles and the change stays within their own flags.
    WithinYourFlags,
    /// The actor may not manage roles at all.
    CannotManageRoles,
    /// The new definition holds a flag the actor does not hold.
    FlagsAboveYours,
    /// The role already holds a flag the actor does not hold.
    RoleAboveYours,
    /// The users of a deleted role would move into a role above the actor's.
    MoveAboveYours,
    /// Built-in roles are fixed; Owner is never a destination.
    BuiltinFixed,
}

impl RoleRule {
    pub fn key(self) -> &'static str {
        match self {
            Self::WithinYourFlags => "policy.role.within_your_flags",
            Self::CannotManageRoles => "policy.role.cannot_manage_roles",
            Self::FlagsAboveYours => "policy.role.flags_above_yours",
            Self::RoleAboveYours => "policy.role.role_above_yours",
            Self::MoveAboveYours => "policy.role.move_above_yours",
            Self::BuiltinFixed => "policy.role.builtin_fixed",
        }
    }
}

/// May `actor` create, edit or delete a custom role this way? Nobody defines
/// a role beyond their own flags, so nobody widens the role they hold, and a
/// deleted role's users never land in a role above the deleter's.
pub fn can_change_role(actor: &Actor, change: RoleChange<'_>) -> (bool, RoleRule) {
    if !can(actor, Action::Use(Flag::UsersManageRoles)).allowed {
        return (false, RoleRule::CannotManageRoles);
    }
    let refusal = match change {
        RoleChange::Create { flags } => {
            (!flags.is_subset_of(grantable_flags(actor))).then_some(RoleRule::FlagsAboveYours)
        }
        RoleChange::Edit { role, flags } => {
            if role.builtin.is_some() {
                Some(RoleRule::BuiltinFixed)
            } else if !within_own_flags(actor, role.flags) {
                Some(RoleRule::RoleAboveYours)
            } else if !flags.is_subset_of(grantable_flags(actor)) {
                Some(RoleRule::FlagsAboveYours)
            } else {
                None
            }
        }
        RoleChange::Delete { role, move_to } => {
            if role.builtin.is_some() {
                Some(RoleRule::BuiltinFixed)
            } else if !within_own_flags(actor, role.flags) {
                Some(RoleRule::RoleAboveYours)
            } else {
                match move_to {
                    Some(to) if to.builtin == Some(BuiltinRole::Owner) => {
                        Some(RoleRule::BuiltinFixed)
                    }
                    Some(to) if !within_own_flags(actor, to.flags) => {
                        Some(RoleRule::MoveAboveYours)
                    }
                    _ => None,
                }
            }
        }
    };
    match refusal {
        Some(rule) => (false, rule),
        None => (true, RoleRule::WithinYourFlags),
    }
}
