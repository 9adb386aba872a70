//! HTTP handlers grouped by area, and `web_routes!`, the one table of the
//! browser's routes. A handler reads through `models` (queries scoped by
//! `policy`), changes records only by calling a `services` function, and
//! turns the outcome into a page or a redirect and a refusal into its
//! answer: field messages beside the form, the 403 or 404 page. The only
//! writes of their own are a reader's bookkeeping: read marks, saved
//! searches, sign-in failures and rate counters.

mod api_docs;
pub mod assets;
mod attachments;
mod audit;
mod collaborators;
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
mod preview;
mod profile;
mod provisioning;
mod reports;
mod roles;
mod saved_replies;
mod search;
mod security;
pub mod session;
pub mod settings;
mod setup;
mod sso;
mod tasks;
mod teams;
mod tokens;
pub mod two_factor;
mod users;
mod webhooks;

use actix_web::web;

pub use crate::crypto::token_hash as inbound_token_hash;

/// The browser's routes: one table that registers them (`routes`) and
/// lists them (`ROUTES`, read by the route × role tests).
macro_rules! web_routes {
    ($( $method:ident $path:literal => $($handler:ident)::+ $(, data $data:expr)? ; )*) => {
        /// Every browser route as (method, path).
        pub const ROUTES: &[(&str, &str)] = &[ $( (stringify!($method), $path), )* ];

        /// Every route, in one place.
        pub fn routes(cfg: &mut web::ServiceConfig) {
            $( web_routes!(@one cfg, $method, $path, $($handler)::+ $(, $data)?); )*
        }
    };
    (@one $cfg:ident, $method:ident, $path:literal, $($handler:ident)::+) => {
        $cfg.route($path, web::$method().to($($handler)::+));
    };
    (@one $cfg:ident, $method:ident, $path:literal, $($handler:ident)::+, $data:expr) => {
        $cfg.service(
            web::resource($path)
                .app_data($data)
                .route(web::$method().to($($handler)::+)),
        );
    };
}

web_routes! {
    get "/healthz" => assets::healthz;
    get "/static/{file}" => assets::static_file;
    get "/setup" => setup::show;
    post "/setup" => setup::submit;
    get "/login" => session::show_login;
    post "/login" => session::login;
    get "/login/two-factor" => two_factor::show_code;
    post "/login/two-factor" => two_factor::submit_code;
    get "/login/sso" => sso::start;
    get "/login/sso/callback" => sso::callback;
    get "/password/forgot" => password::show_forgot;
    post "/password/forgot" => password::forgot;
    get "/password/reset/{token}" => password::show_reset;
    post "/password/reset/{token}" => password::reset;
    get "/logout" => session::show_logout;
    post "/logout" => session::logout;
    get "/" => home::show;
    get "/contact" => contact::show;
    post "/contact" => contact::submit;
    get "/conversations" => conversations::list;
    post "/conversations/bulk" => conversations::bulk;
    get "/conversations/new" => conversations::new;
    post "/conversations/new" => conversations::create;
    get "/conversations/{id}" => conversations::show;
    get "/conversations/{id}/audience" => conversations::audience;
    post "/conversations/{id}/grants" => conversations::grant_access;
    post "/conversations/{id}/invite" => conversations::invite_into;
    post "/conversations/{id}/grants/{grant}/revoke" => conversations::revoke_access;
    get "/conversations/{id}/mentionable" => conversations::mentionable;
    get "/conversations/{id}/live" => conversations::live;
    get "/conversations/{id}/saved-replies" => conversations::saved_replies;
    post "/conversations/{id}/presence" => conversations::presence;
    post "/conversations/{id}/reply" => conversations::reply;
    post "/conversations/{id}/notes" => conversations::add_note;
    post "/conversations/{id}/properties" => conversations::update_properties;
    post "/conversations/{id}/move" => conversations::move_conversation;
    post "/requests/{id}/answer" => conversations::answer_request;
    post "/requests/{id}/decline" => conversations::decline_request;
    post "/requests/{id}/withdraw" => conversations::withdraw_request;
    get "/customers" => customers::list;
    get "/customers/new" => customers::new;
    post "/customers/new" => customers::create;
    get "/customers/{id}" => customers::show;
    get "/customers/{id}/edit" => customers::edit;
    post "/customers/{id}/edit" => customers::update;
    post "/customers/{id}/notes" => customers::add_note;
    post "/customers/{id}/unblock" => customers::unblock;
    get "/organizations" => customers::organizations;
    get "/organizations/new" => customers::new_organization;
    post "/organizations/new" => customers::create_organization;
    get "/organizations/{id}" => customers::show_organization;
    get "/organizations/{id}/edit" => customers::edit_organization;
    post "/organizations/{id}/edit" => customers::update_organization;
    post "/organizations/{id}/notes" => customers::add_organization_note;
    get "/notifications" => notifications::list;
    post "/notifications/read-all" => notifications::mark_all_read;
    post "/notifications/{id}/read" => notifications::mark_read;
    get "/search" => search::page;
    get "/search.csv" => search::export;
    post "/search/saved" => search::save;
    post "/search/saved/{id}/delete" => search::delete;
    get "/profile" => profile::show;
    post "/profile" => profile::save;
    post "/profile/password" => profile::change_password;
    get "/profile/two-factor" => two_factor::show_setup;
    post "/profile/two-factor" => two_factor::confirm_setup;
    post "/profile/two-factor/recovery-codes" => two_factor::regenerate_codes;
    post "/profile/two-factor/disable" => two_factor::disable;
    post "/markdown/preview" => preview::markdown;
    get "/saved-replies" => saved_replies::list;
    post "/saved-replies" => saved_replies::create;
    get "/saved-replies/{id}" => saved_replies::edit;
    post "/saved-replies/{id}" => saved_replies::update;
    post "/saved-replies/{id}/delete" => saved_replies::delete;
    get "/profile/tokens" => tokens::list;
    post "/profile/tokens" => tokens::create;
    post "/profile/tokens/{id}/revoke" => tokens::revoke;
    get "/api/docs" => api_docs::show;
    get "/settings/provisioning" => provisioning::show;
    post "/settings/provisioning" => provisioning::create;
    post "/settings/provisioning/{id}/delete" => provisioning::delete;
    get "/settings/api" => tokens::settings;
    post "/settings/api/tokens/{id}/revoke" => tokens::admin_revoke;
    post "/settings/api/scim-token" => tokens::rotate_scim;
    post "/settings/api/scim-token/delete" => tokens::remove_scim;
    get "/settings/webhooks" => webhooks::list;
    post "/settings/webhooks" => webhooks::create;
    get "/settings/webhooks/{id}" => webhooks::show;
    post "/settings/webhooks/{id}" => webhooks::update;
    post "/settings/webhooks/{id}/delete" => webhooks::delete;
    post "/settings/webhooks/{id}/test" => webhooks::test;
    post "/settings/webhooks/{id}/deliveries/{delivery_id}/retry" => webhooks::retry;
    get "/settings" => settings::index;
    get "/settings/organisation" => settings::show_org;
    get "/settings/collaborators" => collaborators::show;
    post "/settings/organisation" => settings::save_org;
    get "/settings/security" => security::show;
    post "/settings/security" => security::save;
    get "/settings/users" => users::list;
    get "/settings/users/new" => users::new;
    post "/settings/users/new" => users::create;
    get "/settings/users/import" => import::show;
    post "/settings/users/import" => import::preview;
    get "/settings/users/import/template.csv" => import::template;
    post "/settings/users/import/confirm" => import::confirm, data web::FormConfig::default().limit(import::MAX_BYTES * 2);
    post "/settings/users/bulk" => users::bulk;
    get "/settings/users/dormant" => users::dormant;
    get "/settings/users/dormant.csv" => users::dormant_csv;
    get "/settings/users/{id}" => users::show;
    post "/settings/users/{id}" => users::update;
    get "/settings/users/{id}/deactivate" => users::confirm_deactivate;
    post "/settings/users/{id}/deactivate" => users::deactivate;
    get "/settings/users/{id}/reactivate" => users::confirm_reactivate;
    post "/settings/users/{id}/reactivate" => users::reactivate;
    post "/settings/users/{id}/resend" => users::resend;
    post "/settings/users/{id}/revoke" => users::revoke;
    post "/settings/users/{id}/two-factor/reset" => two_factor::reset;
    get "/settings/teams" => teams::list;
    post "/settings/teams" => teams::create;
    get "/settings/teams/{id}" => teams::show;
    post "/settings/teams/{id}" => teams::rename;
    post "/settings/teams/{id}/members" => teams::add_member;
    post "/settings/teams/{id}/members/{user_id}/remove" => teams::remove_member;
    post "/settings/teams/{id}/delete" => teams::delete;
    get "/settings/roles" => roles::list;
    get "/settings/roles/new" => roles::new;
    post "/settings/roles/new" => roles::create;
    get "/settings/roles/{id}" => roles::edit;
    post "/settings/roles/{id}" => roles::update;
    post "/settings/roles/{id}/delete" => roles::delete;
    get "/settings/email" => email_settings::show;
    post "/settings/email/token" => email_settings::rotate_token;
    post "/settings/email/token/delete" => email_settings::remove_token;
    post "/inbound/email" => inbound::receive, data web::PayloadConfig::new(inbound::MAX_MESSAGE_BYTES);
    get "/attachments/{id}" => attachments::download;
    get "/help" => help::home;
    get "/help/search" => help::search;
    get "/help/sitemap.xml" => help::sitemap;
    get "/help/categories/{slug}" => help::category;
    get "/help/sections/{slug}" => help::section;
    get "/help/articles/{slug}" => help::article;
    get "/reports" => reports::show;
    get "/reports/{table}.csv" => reports::export;
    get "/tasks" => tasks::list;
    get "/tasks/new" => tasks::new;
    post "/tasks/new" => tasks::create;
    get "/tasks/{id}" => tasks::show;
    post "/tasks/{id}" => tasks::update;
    post "/tasks/{id}/done" => tasks::done;
    post "/tasks/{id}/reopen" => tasks::reopen;
    post "/tasks/{id}/comments" => tasks::comment;
    get "/kb" => kb::index;
    get "/kb/links" => kb::links;
    get "/kb/articles/new" => kb::new;
    post "/kb/articles/new" => kb::create;
    get "/kb/articles/{id}" => kb::show;
    get "/kb/articles/{id}/edit" => kb::edit;
    post "/kb/articles/{id}/edit" => kb::update;
    post "/kb/articles/{id}/publish" => kb::publish;
    post "/kb/articles/{id}/unpublish" => kb::unpublish;
    post "/kb/articles/{id}/delete" => kb::delete;
    post "/kb/articles/{id}/move" => kb::move_article;
    get "/kb/articles/{id}/revisions" => kb::revisions;
    get "/kb/categories" => kb::categories;
    post "/kb/categories" => kb::create_category;
    post "/kb/categories/{id}" => kb::update_category;
    post "/kb/categories/{id}/move" => kb::move_category;
    post "/kb/categories/{id}/delete" => kb::delete_category;
    post "/kb/sections" => kb::create_section;
    post "/kb/sections/{id}" => kb::update_section;
    post "/kb/sections/{id}/move" => kb::move_section;
    post "/kb/sections/{id}/delete" => kb::delete_section;
    get "/settings/outbox" => outbox::list;
    post "/settings/outbox/{id}/retry" => outbox::retry;
    get "/settings/audit" => audit::list;
    get "/settings/audit.csv" => audit::export;
    get "/invitations/{token}" => invitations::show;
    post "/invitations/{token}" => invitations::accept;
}
