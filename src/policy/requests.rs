//! Requests (questions asked in notes): who may ask, answer, decline and
//! withdraw. Whoever may write notes may ask — collaborators included —
//! but only people who can see the conversation can be asked (the caller
//! checks sight with `sees_conversation`'s scope); only the person asked
//! answers or declines; the asker, or someone who may update
//! conversations, withdraws.

use super::{Action, Actor, Flag, can};

/// Whether `actor` may ask questions in notes.
pub fn may_ask(actor: &Actor) -> bool {
    can(actor, Action::Use(Flag::ConversationsNote)).allowed
}

/// Whether `actor` may answer or decline a request asked of `asked_of`.
pub fn may_answer(actor: &Actor, asked_of: i64) -> bool {
    actor.user_id == asked_of && can(actor, Action::Use(Flag::ConversationsNote)).allowed
}

/// Whether `actor` may withdraw a request asked by `asked_by`.
pub fn may_withdraw(actor: &Actor, asked_by: Option<i64>) -> bool {
    asked_by == Some(actor.user_id) || can(actor, Action::Use(Flag::ConversationsUpdate)).allowed
}
