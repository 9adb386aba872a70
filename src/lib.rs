//! Confer: a self-hosted helpdesk. The binary (`main.rs`) and the tests build
//! the same application from here.

/// mimalloc: fewer instructions per request than the system allocator (a
/// page allocates and frees thousands of small strings and rows).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod api;
pub mod app;
pub mod assets;
pub mod auth;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod db;
pub mod error;
pub mod forms;
pub mod handlers;
pub mod i18n;
pub mod import;
pub mod inbound;
pub mod input;
pub mod jobs;
pub mod kept;
pub mod mail;
pub mod markdown;
pub mod mentions;
pub mod models;
pub mod net;
pub mod notify;
pub mod observe;
pub mod pages;
pub mod policy;
pub mod privacy;
pub mod rate_limit;
pub mod reports;
pub mod scim;
pub mod search;
pub mod services;
pub mod sso;
pub mod state;
pub mod totp;
pub mod uploads;
pub mod urlencoded;
pub mod web;
