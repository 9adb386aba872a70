//! Whether one user sees one conversation, and the rule that decides. It
//! is `conversation_scope` applied to one conversation — the lists, counts
//! and searches apply the same scope in SQL — so the explainer, the
//! notifications and every list give one answer.

use super::{Action, Actor, ConversationScope, Flag, ScopeRule, UserType, can, conversation_scope};

/// Where a conversation sits, as far as scopes are concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    pub id: i64,
    pub team_id: Option<i64>,
    pub customer_id: i64,
}

impl ConversationScope {
    /// Whether a conversation lies in this scope (as the SQL scopes: all;
    /// `team_id IN (…) OR id IN (…) OR customer_id IN (…)`, which no team
    /// never matches by team; none).
    pub fn includes(&self, c: Placement) -> bool {
        match self {
            Self::All => true,
            Self::Limited(reach) => {
                c.team_id.is_some_and(|t| reach.teams.contains(&t))
                    || reach.conversations.contains(&c.id)
                    || reach.customers.contains(&c.customer_id)
            }
            Self::None => false,
        }
    }

    /// Whether it reaches more than teams' conversations: everything, or
    /// conversations granted (such readers have the "All" view).
    pub fn beyond_teams(&self) -> bool {
        match self {
            Self::All => true,
            Self::Limited(reach) => !(reach.conversations.is_empty() && reach.customers.is_empty()),
            Self::None => false,
        }
    }
}

/// Who may open "Who can see this" on a conversation they see: those who
/// view users, and those who give collaborators access.
pub fn may_see_audience(actor: &Actor) -> bool {
    can(actor, Action::Use(Flag::UsersView)).allowed
        || can(actor, Action::Use(Flag::CollaboratorsGrant)).allowed
}

/// Who may invite someone new straight into a conversation: those who give
/// collaborators access and may add collaborators.
pub fn may_invite_into_conversation(actor: &Actor) -> bool {
    can(actor, Action::Use(Flag::CollaboratorsGrant)).allowed
        && super::can_grant(actor, UserType::Collaborator, None).0
}

/// The rule that decides whether someone sees a conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SightRule {
    /// They see every conversation.
    AllConversations,
    /// The conversation's team is one of theirs, and teams decide (`why`).
    InTheirTeam { team_id: i64, why: ScopeRule },
    /// A grant in force lets them: for this conversation, or for every
    /// conversation of its customer.
    Granted { by_customer: bool },
    /// Teams decide (`why`) and the conversation's team is not theirs, or
    /// it has none, and nothing was granted.
    OutsideTheirTeams {
        team_id: Option<i64>,
        why: ScopeRule,
    },
    /// They may not view conversations at all.
    NoViewPermission,
}

/// Whether `actor` sees the conversation, and why.
pub fn sees_conversation(actor: &Actor, c: Placement) -> (bool, SightRule) {
    let (scope, why) = conversation_scope(actor);
    let rule = match &scope {
        ConversationScope::All => SightRule::AllConversations,
        ConversationScope::None => SightRule::NoViewPermission,
        ConversationScope::Limited(reach) => match c.team_id {
            Some(team_id) if reach.teams.contains(&team_id) => {
                SightRule::InTheirTeam { team_id, why }
            }
            _ if reach.conversations.contains(&c.id) => SightRule::Granted { by_customer: false },
            _ if reach.customers.contains(&c.customer_id) => {
                SightRule::Granted { by_customer: true }
            }
            team_id => SightRule::OutsideTheirTeams { team_id, why },
        },
    };
    (scope.includes(c), rule)
}
