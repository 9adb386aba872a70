//! Saved replies: a reply snippet is for those who may reply, a note
//! snippet for those who may write notes (collaborators included); a
//! personal one is its owner's alone; a team's is read by the team's
//! members and written by those who manage teams (who read every team's).

use super::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnippetKind {
    Reply,
    Note,
}

impl SnippetKind {
    pub const ALL: [SnippetKind; 2] = [Self::Reply, Self::Note];

    pub fn key(self) -> &'static str {
        match self {
            Self::Reply => "reply",
            Self::Note => "note",
        }
    }

    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.key() == key)
    }

    fn flag(self) -> Flag {
        match self {
            Self::Reply => Flag::ConversationsReply,
            Self::Note => Flag::ConversationsNote,
        }
    }
}

/// Whose a saved reply is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnippetOwner {
    Personal(i64),
    Team(i64),
}

/// May the actor use saved replies of this kind at all?
pub fn can_use_snippet(actor: &Actor, kind: SnippetKind) -> bool {
    can(actor, Action::Use(kind.flag())).allowed
}

/// May the actor create, change or delete a saved reply of this kind and
/// owner? The refusal is the catalog key of its reason.
pub fn can_write_snippet(
    actor: &Actor,
    owner: SnippetOwner,
    kind: SnippetKind,
) -> Result<(), &'static str> {
    if !can_use_snippet(actor, kind) {
        return Err("saved.error.kind");
    }
    match owner {
        SnippetOwner::Personal(user) if user == actor.user_id => Ok(()),
        SnippetOwner::Personal(_) => Err("saved.error.not_yours"),
        SnippetOwner::Team(_) if can(actor, Action::Use(Flag::TeamsManage)).allowed => Ok(()),
        SnippetOwner::Team(_) => Err("saved.error.team"),
    }
}

/// Which saved replies a reader sees, for the queries.
#[derive(Clone, Debug)]
pub struct SnippetScope {
    pub user_id: i64,
    /// Every team's shared replies (they manage teams), not only those of
    /// the teams they belong to.
    pub every_team: bool,
    /// The kinds they may use.
    pub kinds: Vec<&'static str>,
}

pub fn snippet_scope(actor: &Actor) -> SnippetScope {
    SnippetScope {
        user_id: actor.user_id,
        every_team: can(actor, Action::Use(Flag::TeamsManage)).allowed,
        kinds: SnippetKind::ALL
            .into_iter()
            .filter(|&k| can_use_snippet(actor, k))
            .map(SnippetKind::key)
            .collect(),
    }
}
