//! HTTP handlers grouped by area, and `routes()`, the one list of the
//! browser's routes. Each handler asks `policy` (or a model query scoped by
//! it) before it shows or changes anything, and renders a typed page or a
//! redirect. Most SQL lives in `models`; kb, tasks, roles and webhooks still
//! query in places, until their writes move to `services`.

mod api_docs;
pub mod assets;
mod attachments;
mod audit;
pub mod contact;
mod conversations;
mod customers;
mod email_settings;
mod help;
mod home;
mod import;
mod inbound;
mod invitations;
mod kb;
mod notifications;
mod outbox;
mod password;
mod profile;
mod reports;
mod roles;
mod search;
mod session;
mod settings;
mod setup;
mod tasks;
mod teams;
mod tokens;
mod users;
mod webhooks;

use actix_web::web;

pub use crate::crypto::token_hash as inbound_token_hash;

/// Every route, in one place.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(assets::healthz))
        .route("/static/{file}", web::get().to(assets::static_file))
        .route("/setup", web::get().to(setup::show))
        .route("/setup", web::post().to(setup::submit))
        .route("/login", web::get().to(session::show_login))
        .route("/login", web::post().to(session::login))
        .route("/password/forgot", web::get().to(password::show_forgot))
        .route("/password/forgot", web::post().to(password::forgot))
        .route(
            "/password/reset/{token}",
            web::get().to(password::show_reset),
        )
        .route("/password/reset/{token}", web::post().to(password::reset))
        .route("/logout", web::get().to(session::show_logout))
        .route("/logout", web::post().to(session::logout))
        .route("/", web::get().to(home::show))
        .route("/contact", web::get().to(contact::show))
        .route("/contact", web::post().to(contact::submit))
        .route("/conversations", web::get().to(conversations::list))
        .route("/conversations/bulk", web::post().to(conversations::bulk))
        .route("/conversations/new", web::get().to(conversations::new))
        .route("/conversations/new", web::post().to(conversations::create))
        .route("/conversations/{id}", web::get().to(conversations::show))
        .route(
            "/conversations/{id}/mentionable",
            web::get().to(conversations::mentionable),
        )
        .route(
            "/conversations/{id}/reply",
            web::post().to(conversations::reply),
        )
        .route(
            "/conversations/{id}/notes",
            web::post().to(conversations::add_note),
        )
        .route(
            "/conversations/{id}/properties",
            web::post().to(conversations::update_properties),
        )
        .route("/customers", web::get().to(customers::list))
        .route("/customers/new", web::get().to(customers::new))
        .route("/customers/new", web::post().to(customers::create))
        .route("/customers/{id}", web::get().to(customers::show))
        .route("/customers/{id}/edit", web::get().to(customers::edit))
        .route("/customers/{id}/edit", web::post().to(customers::update))
        .route("/customers/{id}/notes", web::post().to(customers::add_note))
        .route("/organizations", web::get().to(customers::organizations))
        .route(
            "/organizations/new",
            web::get().to(customers::new_organization),
        )
        .route(
            "/organizations/new",
            web::post().to(customers::create_organization),
        )
        .route(
            "/organizations/{id}",
            web::get().to(customers::show_organization),
        )
        .route(
            "/organizations/{id}/edit",
            web::get().to(customers::edit_organization),
        )
        .route(
            "/organizations/{id}/edit",
            web::post().to(customers::update_organization),
        )
        .route(
            "/organizations/{id}/notes",
            web::post().to(customers::add_organization_note),
        )
        .route("/notifications", web::get().to(notifications::list))
        .route(
            "/notifications/read-all",
            web::post().to(notifications::mark_all_read),
        )
        .route(
            "/notifications/{id}/read",
            web::post().to(notifications::mark_read),
        )
        .route("/search", web::get().to(search::page))
        .route("/search.csv", web::get().to(search::export))
        .route("/search/saved", web::post().to(search::save))
        .route("/search/saved/{id}/delete", web::post().to(search::delete))
        .route("/profile", web::get().to(profile::show))
        .route("/profile", web::post().to(profile::save))
        .route(
            "/profile/password",
            web::post().to(profile::change_password),
        )
        .route("/profile/tokens", web::get().to(tokens::list))
        .route("/profile/tokens", web::post().to(tokens::create))
        .route(
            "/profile/tokens/{id}/revoke",
            web::post().to(tokens::revoke),
        )
        .route("/api/docs", web::get().to(api_docs::show))
        .route("/settings/api", web::get().to(tokens::settings))
        .route(
            "/settings/api/tokens/{id}/revoke",
            web::post().to(tokens::admin_revoke),
        )
        .route(
            "/settings/api/scim-token",
            web::post().to(tokens::rotate_scim),
        )
        .route(
            "/settings/api/scim-token/delete",
            web::post().to(tokens::remove_scim),
        )
        .route("/settings/webhooks", web::get().to(webhooks::list))
        .route("/settings/webhooks", web::post().to(webhooks::create))
        .route("/settings/webhooks/{id}", web::get().to(webhooks::show))
        .route("/settings/webhooks/{id}", web::post().to(webhooks::update))
        .route(
            "/settings/webhooks/{id}/delete",
            web::post().to(webhooks::delete),
        )
        .route(
            "/settings/webhooks/{id}/test",
            web::post().to(webhooks::test),
        )
        .route(
            "/settings/webhooks/{id}/deliveries/{delivery_id}/retry",
            web::post().to(webhooks::retry),
        )
        .route("/settings", web::get().to(settings::index))
        .route("/settings/organisation", web::get().to(settings::show_org))
        .route("/settings/organisation", web::post().to(settings::save_org))
        .route("/settings/users", web::get().to(users::list))
        .route("/settings/users/new", web::get().to(users::new))
        .route("/settings/users/new", web::post().to(users::create))
        .route("/settings/users/import", web::get().to(import::show))
        .route("/settings/users/import", web::post().to(import::preview))
        .route(
            "/settings/users/import/template.csv",
            web::get().to(import::template),
        )
        .service(
            web::resource("/settings/users/import/confirm")
                .app_data(web::FormConfig::default().limit(import::MAX_BYTES * 2))
                .route(web::post().to(import::confirm)),
        )
        .route("/settings/users/dormant", web::get().to(users::dormant))
        .route(
            "/settings/users/dormant.csv",
            web::get().to(users::dormant_csv),
        )
        .route("/settings/users/{id}", web::get().to(users::show))
        .route("/settings/users/{id}", web::post().to(users::update))
        .route(
            "/settings/users/{id}/deactivate",
            web::get().to(users::confirm_deactivate),
        )
        .route(
            "/settings/users/{id}/deactivate",
            web::post().to(users::deactivate),
        )
        .route(
            "/settings/users/{id}/reactivate",
            web::get().to(users::confirm_reactivate),
        )
        .route(
            "/settings/users/{id}/reactivate",
            web::post().to(users::reactivate),
        )
        .route("/settings/users/{id}/resend", web::post().to(users::resend))
        .route("/settings/users/{id}/revoke", web::post().to(users::revoke))
        .route("/settings/teams", web::get().to(teams::list))
        .route("/settings/teams", web::post().to(teams::create))
        .route("/settings/teams/{id}", web::get().to(teams::show))
        .route("/settings/teams/{id}", web::post().to(teams::rename))
        .route(
            "/settings/teams/{id}/members",
            web::post().to(teams::add_member),
        )
        .route(
            "/settings/teams/{id}/members/{user_id}/remove",
            web::post().to(teams::remove_member),
        )
        .route("/settings/teams/{id}/delete", web::post().to(teams::delete))
        .route("/settings/roles", web::get().to(roles::list))
        .route("/settings/roles/new", web::get().to(roles::new))
        .route("/settings/roles/new", web::post().to(roles::create))
        .route("/settings/roles/{id}", web::get().to(roles::edit))
        .route("/settings/roles/{id}", web::post().to(roles::update))
        .route("/settings/roles/{id}/delete", web::post().to(roles::delete))
        .route("/settings/email", web::get().to(email_settings::show))
        .route(
            "/settings/email/token",
            web::post().to(email_settings::rotate_token),
        )
        .route(
            "/settings/email/token/delete",
            web::post().to(email_settings::remove_token),
        )
        .service(
            web::resource("/inbound/email")
                .app_data(web::PayloadConfig::new(inbound::MAX_MESSAGE_BYTES))
                .route(web::post().to(inbound::receive)),
        )
        .route("/attachments/{id}", web::get().to(attachments::download))
        .route("/help", web::get().to(help::home))
        .route("/help/search", web::get().to(help::search))
        .route("/help/sitemap.xml", web::get().to(help::sitemap))
        .route("/help/categories/{slug}", web::get().to(help::category))
        .route("/help/sections/{slug}", web::get().to(help::section))
        .route("/help/articles/{slug}", web::get().to(help::article))
        .route("/reports", web::get().to(reports::show))
        .route("/reports/{table}.csv", web::get().to(reports::export))
        .route("/tasks", web::get().to(tasks::list))
        .route("/tasks/new", web::get().to(tasks::new))
        .route("/tasks/new", web::post().to(tasks::create))
        .route("/tasks/{id}", web::get().to(tasks::show))
        .route("/tasks/{id}", web::post().to(tasks::update))
        .route("/tasks/{id}/done", web::post().to(tasks::done))
        .route("/tasks/{id}/reopen", web::post().to(tasks::reopen))
        .route("/tasks/{id}/comments", web::post().to(tasks::comment))
        .route("/kb", web::get().to(kb::index))
        .route("/kb/links", web::get().to(kb::links))
        .route("/kb/articles/new", web::get().to(kb::new))
        .route("/kb/articles/new", web::post().to(kb::create))
        .route("/kb/articles/{id}", web::get().to(kb::show))
        .route("/kb/articles/{id}/edit", web::get().to(kb::edit))
        .route("/kb/articles/{id}/edit", web::post().to(kb::update))
        .route("/kb/articles/{id}/publish", web::post().to(kb::publish))
        .route("/kb/articles/{id}/unpublish", web::post().to(kb::unpublish))
        .route("/kb/articles/{id}/delete", web::post().to(kb::delete))
        .route("/kb/articles/{id}/move", web::post().to(kb::move_article))
        .route("/kb/articles/{id}/revisions", web::get().to(kb::revisions))
        .route("/kb/categories", web::get().to(kb::categories))
        .route("/kb/categories", web::post().to(kb::create_category))
        .route("/kb/categories/{id}", web::post().to(kb::update_category))
        .route(
            "/kb/categories/{id}/move",
            web::post().to(kb::move_category),
        )
        .route(
            "/kb/categories/{id}/delete",
            web::post().to(kb::delete_category),
        )
        .route("/kb/sections", web::post().to(kb::create_section))
        .route("/kb/sections/{id}", web::post().to(kb::update_section))
        .route("/kb/sections/{id}/move", web::post().to(kb::move_section))
        .route(
            "/kb/sections/{id}/delete",
            web::post().to(kb::delete_section),
        )
        .route("/settings/outbox", web::get().to(outbox::list))
        .route("/settings/outbox/{id}/retry", web::post().to(outbox::retry))
        .route("/settings/audit", web::get().to(audit::list))
        .route("/settings/audit.csv", web::get().to(audit::export))
        .route("/invitations/{token}", web::get().to(invitations::show))
        .route("/invitations/{token}", web::post().to(invitations::accept));
}
