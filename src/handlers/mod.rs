//! Thin HTTP handlers grouped by area. Each one loads, asks the policy,
//! and renders a typed page; SQL lives in `models`.

mod assets;
mod home;
mod profile;
mod session;
mod settings;
mod setup;

use actix_web::web;

/// Every route, in one place.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(assets::healthz))
        .route("/static/{file}", web::get().to(assets::static_file))
        .route("/setup", web::get().to(setup::show))
        .route("/setup", web::post().to(setup::submit))
        .route("/login", web::get().to(session::show_login))
        .route("/login", web::post().to(session::login))
        .route("/logout", web::get().to(session::show_logout))
        .route("/logout", web::post().to(session::logout))
        .route("/", web::get().to(home::show))
        .route("/profile", web::get().to(profile::show))
        .route("/profile", web::post().to(profile::save))
        .route(
            "/profile/password",
            web::post().to(profile::change_password),
        )
        .route("/settings", web::get().to(settings::index))
        .route("/settings/organisation", web::get().to(settings::show_org))
        .route("/settings/organisation", web::post().to(settings::save_org));
}

/// Every page route with its method, for the route × role matrix test.
pub const PAGE_ROUTES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/profile"),
    ("GET", "/settings"),
    ("GET", "/settings/organisation"),
    ("GET", "/logout"),
];
