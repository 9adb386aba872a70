//! Settings > Users: the list with seats, add (and invite), the user page
//! with edit form and effective permissions, deactivate and reactivate,
//! invitations, and the dormant-seats report.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{Duration, NaiveDateTime};
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::db::write_transaction;
use crate::error::{AppError, AppResult};
use crate::forms::FieldErrors;
use crate::i18n::{Lang, Tr};
use crate::models::invitation::{self, Delivery};
use crate::models::people::{self, Seats, Tab, UserFilter};
use crate::models::role::Role;
use crate::models::team::Team;
use crate::models::user::User;
use crate::pages::{
    Badge, Ctx, TimezoneGroup, format_datetime, html_with_status, timezone_choices,
};
use crate::policy::{self, Action, Flag, UserType};
use crate::services::user_form::{self, RoleOption, UserForm, role_label};
use crate::services::users::{self as admin, Outcome};
use crate::state::AppState;
use crate::urlencoded::form_pairs;
use crate::web::redirect;

mod add;
mod bulk;
mod lifecycle;
mod list;
mod profile;
mod sight;
pub use add::*;
pub use bulk::*;
pub use lifecycle::*;
pub use list::*;
pub use profile::*;

const PAGE_SIZE: i64 = 50;
pub const DEFAULT_DORMANT_DAYS: i64 = 30;
