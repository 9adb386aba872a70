//! The one integration test binary (every extra binary links the whole app
//! again). One module per area; database tests run on SQLite and PostgreSQL
//! through `db_test!`, browser tests drive a real headless Chromium.

// Tests may panic on what they do not expect: that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod smtp;
mod support;

mod admin_areas;
mod api;
mod architecture;
mod auth;
mod browser;
mod cli;
mod config;
mod conversations;
mod customers;
mod email;
mod fast_reads;
mod grants;
mod i18n;
mod identity;
mod kb;
mod layouts;
mod live;
mod password;
mod policy;
mod reports;
mod requests;
mod robustness;
mod saved_replies;
mod scim;
mod settings;
mod setup;
mod tasks;
mod times;
mod users;
mod users_bulk;
