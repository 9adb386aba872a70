//! Two-factor sign-in (TOTP, recovery codes, remembered devices, the
//! organisation's requirement, an admin's reset) and single sign-on against
//! a real OpenID Connect provider — node-oidc-provider, started on loopback
//! from `tests/oidc` — each refusal asserted on the sign-in page.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};

use chrono::Duration;
use confer::policy::BuiltinRole;

use crate::db_test;
use crate::support::*;

/// The six-digit code for `secret` at the app's current time.
fn code(app: &TestApp, secret: &str) -> String {
    confer::totp::code_at(secret, app.clock.now().and_utc().timestamp()).expect("code")
}

/// Sets up two-factor sign-in from the profile; returns the secret and the
/// recovery codes the page showed.
pub fn set_up(app: &TestApp, client: &mut Client) -> (String, Vec<String>) {
    let page = client.get("/profile/two-factor");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("<svg role=\"img\""),
        "QR code drawn inline"
    );
    let secret = between(&page.body, "id=\"totp-secret\">", "<").replace(' ', "");
    assert_eq!(secret.len(), 32, "a 160-bit base32 secret: {secret}");
    let wrong = client.post_form("/profile/two-factor", &[("code", "000000")]);
    assert_eq!(wrong.status, 422);
    assert!(
        wrong
            .body
            .contains("That is not the code your app shows now.")
    );
    let done = client.post_form("/profile/two-factor", &[("code", &code(app, &secret))]);
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Two-factor sign-in is on."));
    let codes: Vec<String> = done
        .body
        .split("<li><code>")
        .skip(1)
        .map(|rest| rest.split('<').next().unwrap_or_default().to_string())
        .collect();
    assert_eq!(codes.len(), 10, "{}", done.body);
    (secret, codes)
}

fn between(text: &str, start: &str, end: &str) -> String {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("{start} not in {text}"))
        + start.len();
    let to = text[from..].find(end).expect("end") + from;
    text[from..to].to_string()
}

/// Signs in with the password only: the session waits for the code.
fn password_step(client: &mut Client, email: &str) {
    client
        .post_form("/login", &[("email", email), ("password", PASSWORD)])
        .expect_redirect("/login/two-factor");
}

#[test]
fn totp_matches_the_rfc_6238_test_vector() {
    // RFC 6238 appendix B (SHA-1): secret "12345678901234567890", T = 59 s.
    let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    assert_eq!(confer::totp::code_at(secret, 59).unwrap(), "287082");
    assert_eq!(
        confer::totp::code_at(secret, 1_111_111_109).unwrap(),
        "081804"
    );
    assert_eq!(
        confer::totp::accepted_step(secret, "287 082", 59, 0),
        Some(1)
    );
    assert_eq!(
        confer::totp::accepted_step(secret, "287082", 59, 1),
        None,
        "a step is accepted once"
    );
}

db_test!(
    two_factor_setup_sign_in_recovery_and_remembered_device,
    |app| {
        let app = app.with_org();
        let mut owner = app.sign_in("owner@acme.test");
        assert!(
            owner
                .get("/profile")
                .body
                .contains("Set up two-factor sign-in")
        );
        let (secret, codes) = set_up(&app, &mut owner);
        let owner_id = app.user_id("owner@acme.test");
        assert_eq!(
            app.count(&format!(
                "users WHERE id = {owner_id} AND two_factor_since IS NOT NULL"
            )),
            1
        );
        assert_eq!(
            app.count(&format!("recovery_codes WHERE user_id = {owner_id}")),
            10
        );
        assert_eq!(
            app.count(&format!(
                "user_totp WHERE user_id = {owner_id} AND secret NOT LIKE '%{secret}%'"
            )),
            1,
            "the secret is stored sealed, never as typed"
        );
        assert_eq!(
            app.count("audit_log WHERE action = 'user.two_factor_enabled'"),
            1
        );

        // The password alone signs nobody in.
        let mut client = app.client();
        password_step(&mut client, "owner@acme.test");
        client.get("/conversations").expect_redirect("/login");
        let page = client.get("/login/two-factor");
        assert!(
            page.body
                .contains("<label for=\"code\">Authentication code</label>")
        );
        let wrong = client.post_form("/login/two-factor", &[("code", "123456")]);
        assert_eq!(wrong.status, 401);
        assert!(wrong.body.contains("That code is not right."));
        // The code used to turn it on cannot be used again in its 30 seconds.
        let replay = client.post_form("/login/two-factor", &[("code", &code(&app, &secret))]);
        assert_eq!(replay.status, 401, "a code works once");
        app.clock.advance(Duration::seconds(30));
        client
            .post_form("/login/two-factor", &[("code", &code(&app, &secret))])
            .expect_redirect("/");
        assert!(client.is_signed_in());

        // A recovery code works once, and says how many are left.
        let mut client = app.client();
        password_step(&mut client, "owner@acme.test");
        client
            .post_form("/login/two-factor", &[("code", &codes[3].to_uppercase())])
            .expect_redirect("/profile/two-factor");
        let page = client.get("/profile/two-factor?recovery=1");
        assert!(page.body.contains("You signed in with a recovery code."));
        assert!(page.body.contains("Recovery codes left: 9."));
        let mut again = app.client();
        password_step(&mut again, "owner@acme.test");
        let reused = again.post_form("/login/two-factor", &[("code", &codes[3])]);
        assert_eq!(reused.status, 401);
        assert_eq!(
            app.count("audit_log WHERE action = 'user.recovery_code_used'"),
            1
        );

        // "Remember this device" skips the code on this device only, 30 days.
        app.clock.advance(Duration::seconds(30));
        let mut phone = app.client();
        password_step(&mut phone, "owner@acme.test");
        let remembered = phone.post_form(
            "/login/two-factor",
            &[("code", &code(&app, &secret)), ("remember", "on")],
        );
        remembered.expect_redirect("/");
        let cookie = remembered.header("set-cookie").unwrap_or_default();
        assert!(cookie.contains("confer_device="), "{cookie}");
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        phone.post_form("/logout", &[]).expect_redirect("/login");
        phone
            .post_form(
                "/login",
                &[("email", "owner@acme.test"), ("password", PASSWORD)],
            )
            .expect_redirect("/");
        let mut other = app.client();
        password_step(&mut other, "owner@acme.test");
        app.clock.advance(Duration::days(31));
        phone.post_form("/logout", &[]).expect_redirect("/login");
        password_step(&mut phone, "owner@acme.test");
    }
);

db_test!(two_factor_codes_are_throttled_like_passwords, |app| {
    let app = app.with_org();
    let mut owner = app.sign_in("owner@acme.test");
    set_up(&app, &mut owner);
    let mut client = app.client();
    password_step(&mut client, "owner@acme.test");
    for _ in 0..5 {
        let wrong = client.post_form("/login/two-factor", &[("code", "000000")]);
        assert_eq!(wrong.status, 401);
    }
    let locked = client.post_form("/login/two-factor", &[("code", "000000")]);
    assert_eq!(locked.status, 429);
    assert!(locked.body.contains("Too many failed sign-in attempts."));
    // The pending sign-in lapses after ten minutes.
    app.clock.advance(Duration::minutes(11));
    client
        .post_form("/login/two-factor", &[("code", "000000")])
        .expect_redirect("/login");
    assert!(
        client
            .get("/login?expired=1")
            .body
            .contains("Your sign-in took too long.")
    );
});

db_test!(new_codes_and_turning_off_need_the_password, |app| {
    let app = app.with_org();
    let mut owner = app.sign_in("owner@acme.test");
    let (_, old_codes) = set_up(&app, &mut owner);
    let wrong = owner.post_form(
        "/profile/two-factor/recovery-codes",
        &[("current_password", "not it")],
    );
    assert_eq!(wrong.status, 422);
    assert!(wrong.body.contains("The current password is not correct."));
    let fresh = owner.post_form(
        "/profile/two-factor/recovery-codes",
        &[("current_password", PASSWORD)],
    );
    assert_eq!(fresh.status, 200);
    assert!(fresh.body.contains("Save these codes now"));
    assert_eq!(
        app.count("audit_log WHERE action = 'user.recovery_codes_regenerated'"),
        1
    );
    let mut client = app.client();
    password_step(&mut client, "owner@acme.test");
    let old = client.post_form("/login/two-factor", &[("code", &old_codes[0])]);
    assert_eq!(old.status, 401, "the old codes stopped working");

    let wrong = owner.post_form(
        "/profile/two-factor/disable",
        &[("current_password", "not it")],
    );
    assert_eq!(wrong.status, 422);
    owner
        .post_form(
            "/profile/two-factor/disable",
            &[("current_password", PASSWORD)],
        )
        .expect_redirect("/profile/two-factor");
    assert_eq!(app.count("users WHERE two_factor_since IS NOT NULL"), 0);
    assert_eq!(app.count("recovery_codes"), 0);
    assert_eq!(app.count("user_totp"), 0);
    assert_eq!(
        app.count("audit_log WHERE action = 'user.two_factor_disabled'"),
        1
    );
    let mut client = app.client();
    client
        .post_form(
            "/login",
            &[("email", "owner@acme.test"), ("password", PASSWORD)],
        )
        .expect_redirect("/");
});

db_test!(the_organisation_can_require_two_factor_sign_in, |app| {
    let app = app.with_org();
    app.staff();
    let mut admin = app.sign_in("admin@acme.test");
    let mut agent = app.sign_in("agent@acme.test");
    let invalid = admin.post_form("/settings/security", &[("two_factor", "sometimes")]);
    assert_eq!(invalid.status, 422);
    admin
        .post_form("/settings/security", &[("two_factor", "admins")])
        .expect_redirect("/settings/security");
    assert_eq!(
        app.count("audit_log WHERE action = 'settings.security_updated'"),
        1
    );
    // The admin can do nothing but set it up (or sign out)…
    admin
        .get("/conversations")
        .expect_redirect("/profile/two-factor");
    admin
        .get("/settings/users")
        .expect_redirect("/profile/two-factor");
    let denied = admin.post_form("/settings/security", &[("two_factor", "off")]);
    denied.expect_redirect("/profile/two-factor");
    let page = admin.get("/profile/two-factor");
    assert!(
        page.body
            .contains("Your organisation requires two-factor sign-in. Set it up to continue.")
    );
    // …the agent is not concerned.
    agent.get("/conversations").expect_status(200);
    let (_, _) = set_up(&app, &mut admin);
    admin.get("/conversations").expect_status(200);
    // Required: it cannot be turned off.
    let page = admin.get("/profile/two-factor");
    assert!(page.body.contains("so it stays on"));
    let refused = admin.post_form(
        "/profile/two-factor/disable",
        &[("current_password", PASSWORD)],
    );
    assert_eq!(refused.status, 403);
    assert_eq!(app.count("users WHERE two_factor_since IS NOT NULL"), 1);

    admin
        .post_form("/settings/security", &[("two_factor", "everyone")])
        .expect_redirect("/settings/security");
    agent
        .get("/conversations")
        .expect_redirect("/profile/two-factor");
    agent.post_form("/logout", &[]).expect_redirect("/login");
});

db_test!(an_admin_resets_a_lost_second_factor, |app| {
    let app = app.with_org();
    app.staff();
    let mut agent = app.sign_in("agent@acme.test");
    set_up(&app, &mut agent);
    let agent_id = app.user_id("agent@acme.test");
    let owner_id = app.user_id("owner@acme.test");
    let mut owner = app.sign_in("owner@acme.test");
    set_up(&app, &mut owner);

    // A manager may manage the agent but not reset their second factor.
    let mut manager = app.sign_in("manager@acme.test");
    let page = manager.get(&format!("/settings/users/{agent_id}"));
    assert!(page.body.contains("Two-factor sign-in is on since"));
    assert!(!page.body.contains("Reset two-factor sign-in"));
    let refused = manager.post_form(&format!("/settings/users/{agent_id}/two-factor/reset"), &[]);
    assert_eq!(refused.status, 403);
    // An admin may not reset the owner's.
    let mut admin = app.sign_in("admin@acme.test");
    let refused = admin.post_form(&format!("/settings/users/{owner_id}/two-factor/reset"), &[]);
    assert_eq!(refused.status, 403);
    assert_eq!(app.count("users WHERE two_factor_since IS NOT NULL"), 2);

    let page = admin.get(&format!("/settings/users/{agent_id}"));
    assert!(page.body.contains("Reset two-factor sign-in"));
    admin
        .post_form(&format!("/settings/users/{agent_id}/two-factor/reset"), &[])
        .expect_redirect(&format!("/settings/users/{agent_id}"));
    assert!(
        admin
            .get(&format!(
                "/settings/users/{agent_id}?notice=two_factor_reset"
            ))
            .body
            .contains("Two-factor sign-in was reset")
    );
    assert_eq!(
        app.count(&format!(
            "users WHERE id = {agent_id} AND two_factor_since IS NULL"
        )),
        1
    );
    assert_eq!(
        app.count(&format!("recovery_codes WHERE user_id = {agent_id}")),
        0
    );
    assert_eq!(
        app.count(&format!(
            "audit_log WHERE action = 'user.two_factor_reset' AND target_id = {agent_id}"
        )),
        1
    );
    // Signed out at once; the password alone signs them in again.
    agent.get("/conversations").expect_redirect("/login");
    app.sign_in("agent@acme.test");
});

// ---------------------------------------------------------------------------
// Single sign-on

/// Runs the body on SQLite and PostgreSQL with an app that listens on its
/// own `CONFER_PUBLIC_URL` (the provider redirects the browser back there).
macro_rules! sso_test {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[test]
            fn sqlite() {
                let f: fn(TestApp) = $body;
                f(TestApp::start_at_own_url(Backend::Sqlite));
            }
            #[test]
            fn postgres() {
                let f: fn(TestApp) = $body;
                f(TestApp::start_at_own_url(Backend::Postgres));
            }
        }
    };
}

/// node-oidc-provider on a loopback port, stopped on drop.
pub struct OidcProvider {
    child: Child,
    /// Kept open: the provider must never write into a closed pipe.
    _stdout: std::io::BufReader<std::process::ChildStdout>,
    pub issuer: String,
}

impl OidcProvider {
    pub fn start(app: &TestApp) -> Self {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc");
        assert!(
            dir.join("node_modules/oidc-provider").is_dir(),
            "the OpenID provider for the SSO tests is not installed: run tests/run.sh, \
             or `npm ci` in tests/oidc"
        );
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(&dir)
            .env(
                "REDIRECT_URI",
                format!("{}/login/sso/callback", app.base_url),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node (Node.js) is needed for the SSO tests: tests/run.sh installs it");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        let mut stdout = std::io::BufReader::new(stdout);
        stdout.read_line(&mut line).expect("provider output");
        let issuer = line
            .strip_prefix("READY ")
            .unwrap_or_else(|| panic!("the provider did not start: {line:?}"))
            .trim()
            .to_string();
        Self {
            child,
            _stdout: stdout,
            issuer,
        }
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A browser's visit to the provider: its own cookies, every redirect
/// followed until one leads back to Confer, the login and consent forms
/// submitted on the way. Returns the callback path and query.
fn through_provider(authorize_url: &str, email: &str, base_url: &str) -> String {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .into();
    let mut cookies: Vec<(String, String)> = Vec::new();
    let mut url = authorize_url.to_string();
    let mut form: Option<Vec<(String, String)>> = None;
    for _ in 0..20 {
        let header = cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let result = match &form {
            Some(fields) => agent
                .post(&url)
                .header("Cookie", &header)
                .send_form(fields.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            None => agent.get(&url).header("Cookie", &header).call(),
        };
        let mut response = result.expect("provider request");
        for value in response.headers().get_all("set-cookie") {
            let pair = value
                .to_str()
                .unwrap_or_default()
                .split(';')
                .next()
                .unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                cookies.retain(|(n, _)| n != name);
                if !value.is_empty() {
                    cookies.push((name.to_string(), value.to_string()));
                }
            }
        }
        if let Some(location) = response.headers().get("location") {
            let location = location.to_str().unwrap_or_default().to_string();
            if let Some(path) = location.strip_prefix(base_url) {
                return path.to_string();
            }
            url = if location.starts_with('/') {
                let origin: String = url.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
                format!("{origin}{location}")
            } else {
                location
            };
            form = None;
            continue;
        }
        let body = response.body_mut().read_to_string().unwrap_or_default();
        let action = between(&body, "action=\"", "\"").replace("&amp;", "&");
        let origin: String = url.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
        url = if action.starts_with('/') {
            format!("{origin}{action}")
        } else {
            action
        };
        form = Some(if body.contains("name=\"prompt\" value=\"login\"") {
            vec![
                ("prompt".into(), "login".into()),
                ("login".into(), email.into()),
                ("password".into(), "anything".into()),
            ]
        } else if body.contains("name=\"prompt\" value=\"consent\"") {
            vec![("prompt".into(), "consent".into())]
        } else {
            panic!("unexpected provider page at {url}: {body}");
        });
    }
    panic!("the provider never redirected back to Confer");
}

/// Configures the provider through Settings > Security as the owner.
pub fn configure(app: &TestApp, provider: &OidcProvider, client_id: &str, extra: &[(&str, &str)]) {
    let mut owner = app.sign_in("owner@acme.test");
    let mut fields = vec![
        ("two_factor", "off"),
        ("sso_issuer", provider.issuer.as_str()),
        ("sso_client_id", client_id),
        ("sso_client_secret", "confer-test-secret"),
        ("sso_label", "Test IdP"),
    ];
    fields.extend_from_slice(extra);
    owner
        .post_form("/settings/security", &fields)
        .expect_redirect("/settings/security");
}

/// Starts the flow on Confer's sign-in page; returns the provider's URL.
fn start(client: &mut Client) -> String {
    let login = client.get("/login");
    assert!(
        login.body.contains(">Sign in with Test IdP</a>"),
        "{}",
        login.body
    );
    let started = client.get("/login/sso?next=/tasks");
    assert_eq!(started.status, 303, "{}", started.body);
    let url = started.location.clone().expect("location");
    for part in [
        "code_challenge_method=S256",
        "code_challenge=",
        "state=",
        "nonce=",
    ] {
        assert!(url.contains(part), "{url}");
    }
    url
}

/// The refusal on the sign-in page, and nobody signed in.
fn refused(client: &mut Client, response: &Response, status: u16, message: &str) {
    assert_eq!(response.status, status, "{}", response.body);
    assert!(
        response.body.contains(message),
        "{message}: {}",
        response.body
    );
    assert!(
        response
            .body
            .contains("<label for=\"password\">Password</label>")
    );
    assert!(!client.is_signed_in());
}

fn query_param(url: &str, name: &str) -> String {
    url.split(['?', '&'])
        .find_map(|p| p.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("{name} not in {url}"))
        .to_string()
}

sso_test!(single_sign_on_signs_in_a_known_user, |app| {
    let app = app.with_org();
    app.staff();
    let provider = OidcProvider::start(&app);
    // The settings form refuses what cannot work.
    let mut owner = app.sign_in("owner@acme.test");
    let invalid = owner.post_form(
        "/settings/security",
        &[
            ("two_factor", "off"),
            ("sso_issuer", "http://idp.example.com"),
            ("sso_client_id", ""),
            ("sso_create_domains", "not a domain"),
        ],
    );
    assert_eq!(invalid.status, 422);
    assert!(invalid.body.contains("Enter an https:// address"));
    assert!(invalid.body.contains("This field is required."));
    let invalid = owner.post_form(
        "/settings/security",
        &[("two_factor", "off"), ("sso_only", "on")],
    );
    assert!(
        invalid
            .body
            .contains("Configure an identity provider first.")
    );
    configure(&app, &provider, "confer", &[]);
    let stored = app.count(
        "org_settings WHERE sso_client_secret IS NOT NULL AND sso_client_secret <> 'confer-test-secret'",
    );
    assert_eq!(stored, 1, "the client secret is stored sealed");
    let audit = app.count(
        "audit_log WHERE action = 'settings.security_updated' AND after_state NOT LIKE '%confer-test-secret%'",
    );
    assert_eq!(audit, 1, "the audit log never holds the secret");

    let mut client = app.client();
    let url = start(&mut client);
    let callback = through_provider(&url, "agent@acme.test", &app.base_url);
    assert!(
        callback.starts_with("/login/sso/callback?code="),
        "{callback}"
    );
    client.get(&callback).expect_redirect("/tasks");
    assert!(client.is_signed_in());
    assert!(client.get("/profile").body.contains("agent@acme.test"));
    // The code and the state were single use.
    let replay = client.get(&callback);
    assert_eq!(replay.status, 400);

    // A collaborator signs in too, and gets the collaborator's view.
    let mut collab = app.client();
    let url = start(&mut collab);
    let callback = through_provider(&url, "COLLAB@acme.test", &app.base_url);
    collab.get(&callback).expect_redirect("/tasks");
    assert!(collab.get("/").body.contains("Collaborator"));
});

sso_test!(single_sign_on_refusals, |app| {
    let app = app.with_org();
    app.staff();
    let provider = OidcProvider::start(&app);
    configure(&app, &provider, "confer", &[]);
    let mut client = app.client();

    // A state that is not this session's.
    let url = start(&mut client);
    let callback = through_provider(&url, "agent@acme.test", &app.base_url);
    let state = query_param(&callback, "state");
    let forged = callback.replace(&state, "forged-state");
    let response = client.get(&forged);
    refused(
        &mut client,
        &response,
        400,
        "This sign-in attempt is not valid any more.",
    );

    // A nonce that is not the one Confer sent.
    let url = start(&mut client);
    let nonce = query_param(&url, "nonce");
    let tampered = url.replace(&format!("nonce={nonce}"), "nonce=someone-elses-nonce");
    let callback = through_provider(&tampered, "agent@acme.test", &app.base_url);
    let response = client.get(&callback);
    refused(&mut client, &response, 403, "could not be verified");

    // PKCE: a code issued for another challenge is refused by the provider.
    let url = start(&mut client);
    let challenge = query_param(&url, "code_challenge");
    let other = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let tampered = url.replace(
        &format!("code_challenge={challenge}"),
        &format!("code_challenge={other}"),
    );
    let callback = through_provider(&tampered, "agent@acme.test", &app.base_url);
    let response = client.get(&callback);
    refused(&mut client, &response, 403, "did not confirm this sign-in");

    // An ID token that expired before it came back (Confer's clock moved on).
    let url = start(&mut client);
    let callback = through_provider(&url, "agent@acme.test", &app.base_url);
    app.clock.advance(Duration::hours(2));
    let response = client.get(&callback);
    refused(&mut client, &response, 403, "could not be verified");
    app.clock.advance(Duration::hours(-2));

    // Nobody here has this email.
    let url = start(&mut client);
    let callback = through_provider(&url, "stranger@elsewhere.test", &app.base_url);
    let response = client.get(&callback);
    refused(
        &mut client,
        &response,
        403,
        "No active user here has this email address.",
    );
    assert_eq!(
        app.count("users WHERE email = 'stranger@elsewhere.test'"),
        0
    );

    // The provider does not vouch for the address.
    let url = start(&mut client);
    let callback = through_provider(&url, "unverified@acme.test", &app.base_url);
    let response = client.get(&callback);
    refused(
        &mut client,
        &response,
        403,
        "did not share a verified email address",
    );

    // Deactivated, and a seasonal user outside their window: as for passwords.
    app.sql("UPDATE users SET active = FALSE WHERE email = 'manager@acme.test'");
    let url = start(&mut client);
    let callback = through_provider(&url, "manager@acme.test", &app.base_url);
    let response = client.get(&callback);
    refused(&mut client, &response, 403, "deactivated");
    let today = app.clock.now().date();
    app.user("temp@acme.test", "Tess Temp")
        .seasonal(today + Duration::days(10), today + Duration::days(20))
        .create();
    let url = start(&mut client);
    let callback = through_provider(&url, "temp@acme.test", &app.base_url);
    let response = client.get(&callback);
    refused(&mut client, &response, 403, "Your access starts on");

    // The provider declined (the user cancelled there).
    let url = start(&mut client);
    let state = query_param(&url, "state");
    let response = client.get(&format!(
        "/login/sso/callback?error=access_denied&state={state}"
    ));
    refused(
        &mut client,
        &response,
        403,
        "The identity provider did not sign you in.",
    );
});

sso_test!(single_sign_on_checks_the_audience, |app| {
    let app = app.with_org();
    app.staff();
    let provider = OidcProvider::start(&app);
    configure(&app, &provider, "confer-wrong-audience", &[]);
    let mut client = app.client();
    let url = start(&mut client);
    let callback = through_provider(&url, "agent@acme.test", &app.base_url);
    let response = client.get(&callback);
    refused(&mut client, &response, 403, "could not be verified");
});

sso_test!(
    single_sign_on_creates_agents_asks_second_factors_and_can_be_the_only_way_in,
    |app| {
        let app = app.with_org();
        app.staff();
        let provider = OidcProvider::start(&app);
        configure(
            &app,
            &provider,
            "confer",
            &[("sso_create_domains", "newcomers.test"), ("sso_only", "on")],
        );
        // A first sign-in from an allowed domain creates a Full-time Agent.
        let mut client = app.client();
        let url = start(&mut client);
        let callback = through_provider(&url, "nia@newcomers.test", &app.base_url);
        client.get(&callback).expect_redirect("/tasks");
        assert!(client.is_signed_in());
        let agent_role = app.role_id(BuiltinRole::Agent);
        assert_eq!(
        app.count(&format!(
            "users WHERE email = 'nia@newcomers.test' AND user_type = 'full_time' AND role_id = {agent_role} AND active"
        )),
        1
    );
        assert_eq!(
            app.count(
                "audit_log WHERE action = 'user.created' AND target_label = 'nia@newcomers.test'"
            ),
            1
        );

        // Passwords are off for everyone but the owner.
        let mut agent = app.client();
        let login = agent.get("/login");
        assert!(login.body.contains("Sign in with a password (owner)"));
        let refused_password = agent.post_form(
            "/login",
            &[("email", "agent@acme.test"), ("password", PASSWORD)],
        );
        assert_eq!(refused_password.status, 403);
        assert!(
            refused_password
                .body
                .contains("This organisation signs in with single sign-on.")
        );
        app.sign_in("owner@acme.test");

        // Sessions started by SSO end at once when the user is deactivated.
        let url = start(&mut agent);
        let callback = through_provider(&url, "agent@acme.test", &app.base_url);
        agent.get(&callback).expect_redirect("/tasks");
        assert!(agent.is_signed_in());
        let agent_id = app.user_id("agent@acme.test");
        let mut admin = app.sign_in("owner@acme.test");
        admin
            .post_form(&format!("/settings/users/{agent_id}/deactivate"), &[])
            .expect_redirect(&format!("/settings/users/{agent_id}"));
        agent.get("/conversations").expect_redirect("/login");

        // A user with a second factor is asked for it after the provider too.
        let mut owner = app.sign_in("owner@acme.test");
        let (secret, _) = set_up(&app, &mut owner);
        app.clock.advance(Duration::seconds(30));
        let mut client = app.client();
        let url = start(&mut client);
        let callback = through_provider(&url, "owner@acme.test", &app.base_url);
        client.get(&callback).expect_redirect("/login/two-factor");
        assert!(!client.is_signed_in());
        client
            .post_form("/login/two-factor", &[("code", &code(&app, &secret))])
            .expect_redirect("/tasks");
        assert!(client.is_signed_in());
    }
);

fn provider_from_environment(config: &mut confer::config::Config) {
    config.oidc = Some(confer::config::OidcConfig {
        issuer: "https://login.example.com".into(),
        client_id: "confer-env".into(),
        client_secret: Some("from-the-environment".into()),
        label: Some("Env IdP".into()),
    });
}

db_test!(
    a_provider_set_by_the_environment_is_shown_read_only,
    configure = provider_from_environment,
    |app| {
        let app = app.with_org();
        let mut visitor = app.client();
        assert!(
            visitor
                .get("/login")
                .body
                .contains(">Sign in with Env IdP</a>")
        );
        let mut owner = app.sign_in("owner@acme.test");
        let page = owner.get("/settings/security");
        assert!(
            page.body
                .contains("Set by the CONFER_OIDC_ environment variables")
        );
        assert!(page.body.contains(
            "value=\"https://login.example.com\" placeholder=\"https://login.example.com\" readonly"
        ));
        assert!(page.body.contains("A secret is stored."));
        owner
            .post_form(
                "/settings/security",
                &[
                    ("two_factor", "admins"),
                    ("sso_issuer", "https://elsewhere.example.com"),
                    ("sso_client_id", "other"),
                    ("sso_only", "on"),
                ],
            )
            .expect_redirect("/settings/security");
        assert_eq!(
            app.count("org_settings WHERE two_factor_required = 'admins' AND sso_only AND sso_issuer IS NULL AND sso_client_id IS NULL AND sso_client_secret IS NULL"),
            1,
            "the environment's provider wins and is not copied; the rest is saved"
        );
        let login = app.client().get("/login");
        assert!(login.body.contains("Sign in with a password (owner)"));
    }
);
