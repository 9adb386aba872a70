//! In Chromium: two-factor setup from the profile, a sign-in with a code
//! and with a recovery code, the organisation's requirement sending an
//! agent to the setup page, and "Sign in with …" round trips through the
//! real OpenID provider of `tests/oidc` (its own pages are not checked by
//! axe: they are the provider's, not Confer's).

use super::*;
use crate::identity::OidcProvider;

fn code_now(app: &TestApp, secret: &str) -> String {
    confer::totp::code_at(secret, app.clock.now().and_utc().timestamp()).expect("code")
}

db_test!(two_factor_in_the_browser, |app| {
    let app = app.with_org();
    app.staff();
    let browser = Browser::open(&app, "two-factor");
    browser.sign_in("owner@acme.test");
    browser.goto("/profile");
    browser.click("a[href='/profile/two-factor']");
    browser.wait_for_path("/profile/two-factor");
    browser.check_both_widths("setup");
    let secret = browser.text("#totp-secret").replace(' ', "");
    browser.fill("#code", "000000");
    browser.click("form[action='/profile/two-factor'] button[type=submit]");
    browser.wait_for_text("#code-error", "That is not the code your app shows now.");
    browser.check_page("setup-wrong-code");
    browser.fill("#code", &code_now(&app, &secret));
    browser.click("form[action='/profile/two-factor'] button[type=submit]");
    browser.wait_for_text("main", "Two-factor sign-in is on.");
    browser.check_both_widths("recovery-codes");
    let recovery = browser.text(".recovery-codes li code");
    assert_eq!(recovery.len(), 11, "{recovery}");

    // Signing in now asks for the code after the password.
    browser.click("form[action='/logout'] button[type=submit]");
    browser.wait_for(|p| p.starts_with("/login"));
    browser.goto("/login");
    browser.fill("#email", "owner@acme.test");
    browser.fill("#password", PASSWORD);
    browser.click("form[action='/login'] button[type=submit]");
    browser.wait_for_path("/login/two-factor");
    browser.check_both_widths("code");
    browser.fill("#code", "111111");
    browser.click("form[action='/login/two-factor'] button[type=submit]");
    browser.wait_for_text("#code-error", "That code is not right.");
    browser.check_page("code-wrong");
    app.clock.advance(chrono::Duration::seconds(30));
    browser.fill("#code", &code_now(&app, &secret));
    browser.click("form[action='/login/two-factor'] button[type=submit]");
    browser.wait_for_path("/");

    // A recovery code instead of the phone.
    browser.click("form[action='/logout'] button[type=submit]");
    browser.wait_for(|p| p.starts_with("/login"));
    browser.goto("/login");
    browser.fill("#email", "owner@acme.test");
    browser.fill("#password", PASSWORD);
    browser.click("form[action='/login'] button[type=submit]");
    browser.wait_for_path("/login/two-factor");
    browser.fill("#code", &recovery);
    browser.click("form[action='/login/two-factor'] button[type=submit]");
    browser.wait_for_path("/profile/two-factor?recovery=1");
    browser.wait_for_text("main", "Recovery codes left: 9.");
    browser.check_both_widths("signed-in-with-recovery-code");

    // The organisation requires it of everyone: the agent is sent to set it up.
    browser.goto("/settings/security");
    browser.check_both_widths("settings-security");
    browser.click("input[name=two_factor][value=everyone]");
    browser.click("form[action='/settings/security'] button[type=submit]");
    browser.wait_for_text("main", "Changes saved.");
    browser.click("form[action='/logout'] button[type=submit]");
    browser.wait_for(|p| p.starts_with("/login"));
    browser.goto("/login");
    browser.fill("#email", "agent@acme.test");
    browser.fill("#password", PASSWORD);
    browser.click("form[action='/login'] button[type=submit]");
    browser.wait_for_path("/profile/two-factor");
    browser.wait_for_text("main", "Your organisation requires two-factor sign-in.");
    browser.goto("/conversations");
    browser.wait_for_path("/profile/two-factor");
    browser.check_both_widths("required");
});

mod sso_button_round_trip {
    use super::*;

    fn run(backend: Backend) {
        let app = TestApp::start_at_own_url(backend).with_org();
        app.staff();
        let provider = OidcProvider::start(&app);
        crate::identity::configure(&app, &provider, "confer", &[]);
        let browser = Browser::open(&app, "sso");
        browser.goto("/login");
        browser.check_both_widths("login");
        for (email, arrives_at) in [
            ("stranger@elsewhere.test", "/login/sso/callback"),
            ("agent@acme.test", "/"),
        ] {
            // A fresh visit: no session at the provider from the last round.
            browser.goto("/login");
            browser
                .rt
                .block_on(browser.d().delete_all_cookies())
                .expect("delete cookies");
            browser.goto("/login");
            browser.click("a[href^='/login/sso']");
            // The provider's own login and consent pages.
            browser.wait_for(|p| p.starts_with("/interaction/"));
            browser.fill("input[name=login]", email);
            browser.fill("input[name=password]", "anything");
            browser.click("button[type=submit]");
            browser.wait_for_text("button[type=submit]", "Continue");
            browser.click("button[type=submit]");
            browser.wait_for(|p| p.starts_with(arrives_at) && (arrives_at != "/" || p == "/"));
            if email.starts_with("stranger") {
                browser.wait_for_text(
                    "#login-error",
                    "No active user here has this email address.",
                );
                browser.check_both_widths("refused");
            }
        }
        assert!(browser.text("body").contains("Alan Agent"));
        browser.check_page("signed-in");
    }

    #[test]
    fn sqlite() {
        run(Backend::Sqlite);
    }

    #[test]
    fn postgres() {
        run(Backend::Postgres);
    }
}
