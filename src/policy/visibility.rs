//! Whether one user sees one conversation, and the rule that decides. It
//! is `conversation_scope` applied to one conversation's team — the lists,
//! counts and searches apply the same scope in SQL — so the explainer, the
//! notifications and every list give one answer.

use super::{Actor, ConversationScope, ScopeRule, conversation_scope};

impl ConversationScope {
    /// Whether a conversation of `team_id` lies in this scope (the SQL
    /// scopes: all; `team_id IN (…)`, which no team never matches; none).
    pub fn includes(&self, team_id: Option<i64>) -> bool {
        match self {
            Self::All => true,
            Self::Teams(ids) => team_id.is_some_and(|t| ids.contains(&t)),
            Self::None => false,
        }
    }
}

/// The rule that decides whether someone sees a conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SightRule {
    /// They see every conversation.
    AllConversations,
    /// The conversation's team is one of theirs, and teams decide (`why`).
    InTheirTeam { team_id: i64, why: ScopeRule },
    /// Teams decide (`why`) and the conversation's team is not theirs, or
    /// it has none.
    OutsideTheirTeams {
        team_id: Option<i64>,
        why: ScopeRule,
    },
    /// They may not view conversations at all.
    NoViewPermission,
}

/// Whether `actor` sees a conversation of `team_id`, and why.
pub fn sees_conversation(actor: &Actor, team_id: Option<i64>) -> (bool, SightRule) {
    let (scope, why) = conversation_scope(actor);
    let rule = match (&scope, team_id) {
        (ConversationScope::All, _) => SightRule::AllConversations,
        (ConversationScope::None, _) => SightRule::NoViewPermission,
        (ConversationScope::Teams(_), Some(team_id)) if scope.includes(Some(team_id)) => {
            SightRule::InTheirTeam { team_id, why }
        }
        (ConversationScope::Teams(_), team_id) => SightRule::OutsideTheirTeams { team_id, why },
    };
    (scope.includes(team_id), rule)
}
