//! Thin HTTP handlers grouped by area. Each one loads, asks the policy,
//! and renders a typed page; SQL lives in `models`.

mod assets;
mod home;
mod invitations;
mod profile;
mod session;
mod settings;
mod setup;
mod user_form;
mod users;

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
        .route("/settings/organisation", web::post().to(settings::save_org))
        .route("/settings/users", web::get().to(users::list))
        .route("/settings/users/new", web::get().to(users::new))
        .route("/settings/users/new", web::post().to(users::create))
        .route("/settings/users/dormant", web::get().to(users::dormant))
        .route("/settings/users/dormant.csv", web::get().to(users::dormant_csv))
        .route("/settings/users/{id}", web::get().to(users::show))
        .route("/settings/users/{id}", web::post().to(users::update))
        .route("/settings/users/{id}/deactivate", web::get().to(users::confirm_deactivate))
        .route("/settings/users/{id}/deactivate", web::post().to(users::deactivate))
        .route("/settings/users/{id}/reactivate", web::get().to(users::confirm_reactivate))
        .route("/settings/users/{id}/reactivate", web::post().to(users::reactivate))
        .route("/settings/users/{id}/resend", web::post().to(users::resend))
        .route("/settings/users/{id}/revoke", web::post().to(users::revoke))
        .route("/invitations/{token}", web::get().to(invitations::show))
        .route("/invitations/{token}", web::post().to(invitations::accept));
}

/// Every page route with its method, for the route × role matrix test.
pub const PAGE_ROUTES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/profile"),
    ("GET", "/settings"),
    ("GET", "/settings/organisation"),
    ("GET", "/logout"),
];
