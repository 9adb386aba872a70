//! The one integration test binary (every extra binary links the whole app
//! again). One module per area; database tests run on SQLite and PostgreSQL
//! through `db_test!`, browser tests drive a real headless Chromium.

mod support;

mod auth;
mod browser;
mod cli;
mod config;
mod i18n;
mod layouts;
mod policy;
mod settings;
mod setup;
