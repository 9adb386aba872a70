//! The conversations workspace: views with counts, the conversation page
//! (one timeline of customer messages, replies and private notes), and the
//! reply, note and property forms. Collaborators get the minimal page: the
//! thread, the customer summary and a note composer — nothing else is even
//! in their HTML, and the server refuses the rest with 403.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{NaiveDateTime, TimeZone};
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::db::write_transaction;
use crate::error::{AppError, AppResult};
use crate::forms::FieldErrors;
use crate::models::attachment;
use crate::models::conversation::{
    self, Conversation, Filter, Priority, Reader, Sort, Status, View,
};
use crate::models::customer;
use crate::models::team::Team;
use crate::pages::{Badge, Ctx, format_datetime, html_with_status};
use crate::policy::{self, Action, ConversationScope, Flag};
use crate::privacy::{mask_email, mask_phone, shown};
use crate::services::{Refusal, conversations, messages};
use crate::state::AppState;
use crate::uploads::{self, Submission};
use crate::urlencoded::url_encode;
use crate::web::redirect;

mod audience;
mod composer;
mod folders;
mod list;
mod live;
mod new;
mod page;
mod properties;
mod requests;
mod thread;
pub use audience::*;
pub use composer::*;
pub use folders::*;
pub use list::*;
pub use live::*;
pub use new::*;
pub use page::*;
pub use properties::*;
pub use requests::*;
pub use thread::*;

const PAGE_SIZE: i64 = 50;

fn reader(current: &CurrentUser) -> (ConversationScope, i64, Vec<i64>) {
    let (scope, _) = policy::conversation_scope(&current.actor);
    (scope, current.user.id, current.actor.team_ids.clone())
}

fn allowed(current: &CurrentUser, flag: Flag) -> bool {
    policy::can(&current.actor, Action::Use(flag)).allowed
}
