//! One file per table: row structs, insert forms and finders returning
//! `QueryResult`. No HTTP here.

pub mod api_token;
pub mod attachment;
pub mod audit;
pub mod conversation;
pub mod customer;
pub mod directory;
pub mod grant;
pub mod inbound_log;
pub mod invitation;
pub mod kb;
pub mod login_failure;
pub mod notification;
pub mod org;
pub mod outbox;
pub mod password_reset;
pub mod people;
pub mod presence;
pub mod provisioning;
pub mod rate;
pub mod refused;
pub mod request;
pub mod role;
pub mod saved_reply;
pub mod task;
pub mod team;
pub mod two_factor;
pub mod user;
pub mod webhook;
