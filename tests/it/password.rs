//! "Forgot your password?" through a real SMTP server.

use chrono::Duration;

use crate::db_test;
use crate::smtp::SmtpSink;
use crate::support::*;

fn reset_link(sink: &SmtpSink, n: usize) -> String {
    let mail = sink.wait_for(n)[n - 1].clone();
    mail.link("http://127.0.0.1/password/reset/")
        .expect("link in the email")
        .trim_start_matches("http://127.0.0.1")
        .to_string()
}

db_test!(a_forgotten_password_is_reset_by_email, |app| {
    let app = app.with_org();
    let sink = SmtpSink::start();
    let mut old_session = app.sign_in("owner@acme.test");
    let mut visitor = app.client();
    assert!(
        visitor
            .get("/login")
            .body
            .contains("href=\"/password/forgot\"")
    );
    let asked = visitor.post_form("/password/forgot", &[("email", "OWNER@acme.test")]);
    assert_eq!(asked.status, 200);
    assert!(
        asked
            .body
            .contains("a link to choose a new password is on its way")
    );
    let unknown = visitor.post_form("/password/forgot", &[("email", "nobody@acme.test")]);
    assert!(
        unknown
            .body
            .contains("a link to choose a new password is on its way"),
        "same answer for unknown addresses"
    );
    let again = visitor.post_form("/password/forgot", &[("email", "owner@acme.test")]);
    assert_eq!(again.status, 200);
    assert_eq!(
        app.count("outbox WHERE kind = 'password_reset'"),
        1,
        "one mail: unknown ignored, repeat throttled"
    );

    app.run_jobs(Some(sink.port));
    let mail = sink.wait_for(1)[0].clone();
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Reset your password for Acme Support")
    );
    let link = reset_link(&sink, 1);
    let short = visitor.post_form(
        &link,
        &[("password", "short"), ("password_confirm", "short")],
    );
    assert_eq!(short.status, 422);
    let done = visitor.post_form(
        &link,
        &[
            ("password", "a fresh new secret"),
            ("password_confirm", "a fresh new secret"),
        ],
    );
    assert_eq!(done.location.as_deref(), Some("/"));
    assert!(visitor.is_signed_in());
    assert!(!old_session.is_signed_in(), "other sessions end");
    assert_eq!(app.client().get(&link).status, 410, "single use");
    let mut fresh = app.client();
    let old = fresh.post_form(
        "/login",
        &[("email", "owner@acme.test"), ("password", PASSWORD)],
    );
    assert_eq!(old.status, 401);
    let new = fresh.post_form(
        "/login",
        &[
            ("email", "owner@acme.test"),
            ("password", "a fresh new secret"),
        ],
    );
    new.expect_redirect("/");
});

db_test!(reset_links_expire_after_an_hour, |app| {
    let app = app.with_org();
    let sink = SmtpSink::start();
    let mut visitor = app.client();
    visitor
        .post_form("/password/forgot", &[("email", "owner@acme.test")])
        .expect_done();
    app.run_jobs(Some(sink.port));
    let link = reset_link(&sink, 1);
    app.clock.advance(Duration::minutes(61));
    let expired = visitor.get(&link);
    assert_eq!(expired.status, 410);
    assert!(expired.body.contains("This link no longer works"));
    let refused = visitor.post_form(
        &link,
        &[
            ("password", "a fresh new secret"),
            ("password_confirm", "a fresh new secret"),
        ],
    );
    assert_eq!(refused.status, 410);
    assert_eq!(app.count("password_resets WHERE used_at IS NOT NULL"), 0);
    // Deactivated users get no link at all.
    app.sql("UPDATE users SET active = FALSE WHERE email = 'owner@acme.test'");
    visitor
        .post_form("/password/forgot", &[("email", "owner@acme.test")])
        .expect_done();
    assert_eq!(app.count("password_resets"), 1);
});
