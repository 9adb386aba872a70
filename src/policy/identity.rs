//! Sign-in rules: who must use a second factor, who may reset someone
//! else's, and who may still use a password when single sign-on is the
//! only way in (the owner, as a break-glass).

use super::*;

/// Settings > Security: who must set up two-factor sign-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TwoFactorRule {
    Off,
    /// The owner, admins, and anyone whose role manages admins or the
    /// organisation's settings (an admin in all but name).
    Admins,
    Everyone,
}

impl TwoFactorRule {
    pub const ALL: [TwoFactorRule; 3] = [Self::Off, Self::Admins, Self::Everyone];

    pub fn key(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Admins => "admins",
            Self::Everyone => "everyone",
        }
    }

    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.key() == key)
    }
}

/// Must this user have a second factor before doing anything else?
pub fn must_use_two_factor(rule: TwoFactorRule, actor: &Actor) -> bool {
    match rule {
        TwoFactorRule::Off => false,
        TwoFactorRule::Everyone => true,
        TwoFactorRule::Admins => {
            matches!(
                actor.builtin_role(),
                Some(BuiltinRole::Owner | BuiltinRole::Admin)
            ) || can(actor, Action::Use(Flag::UsersManageAdmins)).allowed
                || can(actor, Action::Use(Flag::SettingsOrg)).allowed
        }
    }
}

/// May `actor` reset `target`'s second factor (which signs them out)? Only
/// someone who manages admins, and who may manage this user; never their
/// own (they turn it off from their profile, with their password).
pub fn can_reset_two_factor(actor: &Actor, target: &ManagedUser) -> (bool, ManageRule) {
    if actor.user_id == target.user_id {
        return (false, ManageRule::NotYourself);
    }
    if !can(actor, Action::Use(Flag::UsersManageAdmins)).allowed {
        return (false, ManageRule::AdminsOnly);
    }
    can_manage_user(actor, target)
}

/// With single sign-on the only way in, passwords still work for the owner
/// (so a broken identity provider cannot lock the organisation out).
pub fn may_use_password(sso_only: bool, actor: &Actor) -> bool {
    !sso_only || actor.is_owner()
}
