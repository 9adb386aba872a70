use chrono::Duration;
use confer::models::user::User;
use confer::policy::BuiltinRole;

use crate::db_test;
use crate::support::*;

db_test!(sign_in_and_sign_out, |app| {
    let app = app.with_org();
    let mut client = app.client();
    let login = client.get("/login");
    assert!(login.body.contains("<label for=\"email\">Email</label>"));
    assert!(
        login
            .body
            .contains("<label for=\"password\">Password</label>")
    );
    assert!(login.body.contains(">Sign in</button>"));
    let response = client.post_form(
        "/login",
        &[
            ("email", "OWNER@acme.test"),
            ("password", PASSWORD),
            ("next", "/profile"),
        ],
    );
    response.expect_redirect("/profile");
    assert_eq!(response.location.as_deref(), Some("/profile"));
    assert!(client.is_signed_in());
    let cookie = response.header("set-cookie").expect("session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain http test server: {cookie}"
    );

    let logout = client.post_form("/logout", &[]);
    assert_eq!(logout.location.as_deref(), Some("/login?signed_out=1"));
    assert!(!client.is_signed_in());
    assert!(
        client
            .get("/login?signed_out=1")
            .body
            .contains("You have been signed out.")
    );
});

db_test!(wrong_passwords_are_refused_and_throttled, |app| {
    let app = app.with_org();
    let mut client = app.client();
    let wrong = client.post_form(
        "/login",
        &[("email", "owner@acme.test"), ("password", "nope")],
    );
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("Email or password is incorrect."));
    assert!(
        wrong.body.contains("value=\"owner@acme.test\""),
        "the email is kept"
    );
    let unknown = client.post_form(
        "/login",
        &[("email", "ghost@acme.test"), ("password", "nope")],
    );
    assert_eq!(unknown.status, 401, "an unknown account answers the same");
    for _ in 0..4 {
        client
            .post_form(
                "/login",
                &[("email", "owner@acme.test"), ("password", "nope")],
            )
            .expect_status(401);
    }
    let locked = client.post_form(
        "/login",
        &[("email", "owner@acme.test"), ("password", PASSWORD)],
    );
    assert_eq!(
        locked.status, 429,
        "the right password is refused while locked"
    );
    assert!(
        locked
            .body
            .contains("Too many failed sign-in attempts. Try again in 15 minutes.")
    );
    app.clock.advance(Duration::minutes(16));
    let mut later = app.client();
    let ok = later.post_form(
        "/login",
        &[("email", "owner@acme.test"), ("password", PASSWORD)],
    );
    ok.expect_redirect("/");
});

db_test!(
    failures_from_one_address_slow_it_but_never_lock_out_a_user,
    |app| {
        let app = app.with_org();
        app.user("agent@acme.test", "Alan Agent").create();
        let mut client = app.client();
        for n in 0..confer::auth::throttle::MAX_PER_IP {
            let email = format!("nobody{n}@acme.test");
            client
                .post_form("/login", &[("email", &email), ("password", "nope")])
                .expect_status(401);
        }
        let started = std::time::Instant::now();
        let wrong = client.post_form(
            "/login",
            &[("email", "agent@acme.test"), ("password", "nope")],
        );
        assert_eq!(wrong.status, 429);
        assert!(
            wrong
                .body
                .contains("Many sign-ins from your network have failed")
        );
        assert!(
            started.elapsed() >= confer::auth::throttle::SUSPECT_DELAY,
            "an address under suspicion is slowed"
        );
        let mut colleague = app.client();
        let ok = colleague.post_form(
            "/login",
            &[("email", "owner@acme.test"), ("password", PASSWORD)],
        );
        ok.expect_redirect("/");
        assert!(colleague.is_signed_in());
    }
);

fn behind_a_proxy(config: &mut confer::config::Config) {
    config.trusted_proxies = confer::net::TrustedProxies(
        confer::net::Cidr::parse_list("127.0.0.0/8, 10.0.0.0/8").expect("cidrs"),
    );
}

db_test!(
    trusted_proxies_name_the_client_and_others_cannot,
    configure = behind_a_proxy,
    |app| {
        let app = app.with_org();
        let attempt = |forwarded: &str| {
            let mut client = app.client();
            client.headers = vec![("X-Forwarded-For".into(), forwarded.into())];
            client.post_form(
                "/login",
                &[("email", "nobody@acme.test"), ("password", "nope")],
            )
        };
        // The proxy at 10.0.0.5 forwards for the client 203.0.113.7; a value
        // the client put in front cannot hide it.
        attempt("198.51.100.1, 203.0.113.7, 10.0.0.5").expect_status(401);
        attempt("203.0.113.7").expect_status(401);
        let scopes: Vec<String> = {
            use confer::db::schema::login_failures;
            use diesel::prelude::*;
            login_failures::table
                .select(login_failures::scope)
                .filter(login_failures::scope.like("ip:%"))
                .load(&mut app.conn())
                .expect("scopes")
        };
        assert_eq!(scopes, vec!["ip:203.0.113.7", "ip:203.0.113.7"]);
        let mut forwarded = app.client();
        forwarded.headers = vec![("Forwarded".into(), "for=\"[2001:db8::1]:4711\"".into())];
        forwarded
            .post_form(
                "/login",
                &[("email", "nobody@acme.test"), ("password", "nope")],
            )
            .expect_status(401);
        assert_eq!(
            app.count("login_failures WHERE scope = 'ip:2001:db8::1'"),
            1
        );
    }
);

db_test!(untrusted_peers_cannot_choose_their_address, |app| {
    let app = app.with_org();
    let mut client = app.client();
    client.headers = vec![("X-Forwarded-For".into(), "203.0.113.9".into())];
    client
        .post_form(
            "/login",
            &[("email", "nobody@acme.test"), ("password", "nope")],
        )
        .expect_status(401);
    assert_eq!(app.count("login_failures WHERE scope = 'ip:127.0.0.1'"), 1);
    assert_eq!(
        app.count("login_failures WHERE scope = 'ip:203.0.113.9'"),
        0
    );
});

db_test!(unknown_accounts_take_as_long_as_wrong_passwords, |app| {
    let app = app.with_org();
    // The test configuration hashes at cost 4; a dummy at cost 12 took
    // about 50 times longer than a real check.
    let time = |email: &str| {
        let mut client = app.client();
        client.csrf();
        let mut best = std::time::Duration::MAX;
        for _ in 0..3 {
            let started = std::time::Instant::now();
            client
                .post_form("/login", &[("email", email), ("password", "nope")])
                .expect_status(401);
            best = best.min(started.elapsed());
        }
        best
    };
    let known = time("owner@acme.test");
    let unknown = time("ghost@acme.test");
    assert!(
        unknown < known * 3 + std::time::Duration::from_millis(100),
        "unknown {unknown:?} vs known {known:?}"
    );
});

db_test!(
    deactivation_and_session_version_end_sessions_at_once,
    |app| {
        let app = app.with_org();
        let agent = app.user("agent@acme.test", "Alan Agent").create();
        let mut client = app.sign_in("agent@acme.test");
        assert!(client.is_signed_in());
        app.sql(&format!(
            "UPDATE users SET session_version = session_version + 1 WHERE id = {agent}"
        ));
        let next = client.get("/");
        next.expect_redirect("/login");
        assert_eq!(next.location.as_deref(), Some("/login?next=/"));

        let mut client = app.sign_in("agent@acme.test");
        app.sql(&format!(
            "UPDATE users SET active = FALSE WHERE id = {agent}"
        ));
        assert!(
            !client.is_signed_in(),
            "a deactivated user is signed out on the next request"
        );
        let refused = client.post_form(
            "/login",
            &[("email", "agent@acme.test"), ("password", PASSWORD)],
        );
        assert_eq!(refused.status, 403);
        assert!(refused.body.contains("This account has been deactivated."));
    }
);

db_test!(seasonal_users_only_inside_their_window, |app| {
    let app = app.with_org();
    let today = app.clock.now().date();
    app.user("early@acme.test", "Early Bird")
        .seasonal(today + Duration::days(3), today + Duration::days(30))
        .create();
    app.user("late@acme.test", "Late Comer")
        .seasonal(today - Duration::days(30), today - Duration::days(3))
        .create();
    app.user("now@acme.test", "Right Now")
        .seasonal(today - Duration::days(1), today + Duration::days(1))
        .create();
    let mut client = app.client();
    let early = client.post_form(
        "/login",
        &[("email", "early@acme.test"), ("password", PASSWORD)],
    );
    assert_eq!(early.status, 403);
    let start = confer::pages::format_date(
        today + Duration::days(3),
        confer::i18n::Tr::new(confer::i18n::Lang::En),
    );
    assert!(
        early
            .body
            .contains(&format!("Your access starts on {start}")),
        "{}",
        early.body
    );
    let late = client.post_form(
        "/login",
        &[("email", "late@acme.test"), ("password", PASSWORD)],
    );
    assert_eq!(late.status, 403);
    let end = confer::pages::format_date(
        today - Duration::days(3),
        confer::i18n::Tr::new(confer::i18n::Lang::En),
    );
    assert!(late.body.contains(&format!("Your access ended on {end}")));

    let mut now = app.sign_in("now@acme.test");
    assert!(now.is_signed_in());
    app.clock.advance(Duration::days(3));
    assert!(
        !now.is_signed_in(),
        "the session ends when the window closes"
    );
});

db_test!(state_changing_requests_need_the_csrf_token, |app| {
    let app = app.with_org();
    let mut client = app.sign_in("owner@acme.test");
    let refused = client.post_raw(
        "/profile",
        &[("name", "Mallory"), ("language", ""), ("timezone", "")],
    );
    assert_eq!(refused.status, 403);
    assert!(refused.body.contains("The form expired"));
    let forged = client.post_raw(
        "/profile",
        &[
            ("csrf_token", "forged"),
            ("name", "Mallory"),
            ("language", ""),
            ("timezone", ""),
        ],
    );
    assert_eq!(forged.status, 403);
    let owner = User::find_by_email(&mut app.conn(), "owner@acme.test")
        .expect("q")
        .expect("owner");
    assert_eq!(owner.name, "Olivia Owner", "nothing changed");
    let mut anonymous = app.client();
    let login = anonymous.post_raw(
        "/login",
        &[("email", "owner@acme.test"), ("password", PASSWORD)],
    );
    assert_eq!(login.status, 403, "even the sign-in form needs the token");
});

db_test!(security_headers_on_every_response, |app| {
    let app = app.with_org();
    let mut client = app.client();
    for path in ["/login", "/static/app.css", "/healthz", "/missing"] {
        let response = client.get(path);
        let csp = response
            .header("content-security-policy")
            .unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}"
        );
        assert_eq!(
            response.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(
            response.header("referrer-policy"),
            Some("same-origin"),
            "{path}"
        );
        assert_eq!(
            response.header("x-request-id").map(str::len),
            Some(16),
            "{path}"
        );
    }
});

db_test!(next_parameter_never_leaves_the_site, |app| {
    let app = app.with_org();
    for next in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let mut client = app.client();
        let response = client.post_form(
            "/login",
            &[
                ("email", "owner@acme.test"),
                ("password", PASSWORD),
                ("next", next),
            ],
        );
        assert_eq!(response.location.as_deref(), Some("/"), "{next}");
    }
});

db_test!(error_pages_are_rendered_in_the_readers_language, |app| {
    let app = app.with_org();
    let mut visitor = app.client();
    visitor.accept_language = Some("de-DE,de;q=0.9".into());
    let login = visitor.get("/login");
    assert!(login.body.contains("<html lang=\"de\">"));
    assert!(login.body.contains(">Anmelden</button>"));
    let missing = visitor.get("/does-not-exist");
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("<html lang=\"de\">"));

    app.user("es@acme.test", "Elena Spanish")
        .language("es")
        .create();
    let mut elena = app.sign_in("es@acme.test");
    let home = elena.get("/");
    assert!(
        home.body.contains("<html lang=\"es\">"),
        "the user's language wins"
    );
    let missing = elena.get("/does-not-exist");
    assert!(missing.body.contains("<html lang=\"es\">"));
});

db_test!(healthz_checks_the_database, |app| {
    let mut client = app.client();
    let ok = client.get("/healthz");
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body, r#"{"status":"ok","database":"ok"}"#);
});

db_test!(changing_the_password_ends_other_sessions, |app| {
    let app = app.with_org();
    app.user("manager@acme.test", "Mia Manager")
        .role(BuiltinRole::Manager)
        .create();
    let mut laptop = app.sign_in("manager@acme.test");
    let mut phone = app.sign_in("manager@acme.test");
    let short = laptop.post_form(
        "/profile/password",
        &[
            ("current_password", PASSWORD),
            ("new_password", "short"),
            ("new_password_confirm", "short"),
        ],
    );
    assert_eq!(short.status, 422);
    assert!(short.body.contains("Use at least 10 characters."));
    let wrong = laptop.post_form(
        "/profile/password",
        &[
            ("current_password", "nope"),
            ("new_password", "a brand new secret"),
            ("new_password_confirm", "a brand new secret"),
        ],
    );
    assert!(wrong.body.contains("The current password is not correct."));
    let changed = laptop.post_form(
        "/profile/password",
        &[
            ("current_password", PASSWORD),
            ("new_password", "a brand new secret"),
            ("new_password_confirm", "a brand new secret"),
        ],
    );
    assert_eq!(changed.location.as_deref(), Some("/profile?saved=password"));
    assert!(laptop.is_signed_in(), "this session continues");
    assert!(!phone.is_signed_in(), "the other session ended");
    let mut again = app.client();
    let ok = again.post_form(
        "/login",
        &[
            ("email", "manager@acme.test"),
            ("password", "a brand new secret"),
        ],
    );
    ok.expect_redirect("/");
});

db_test!(static_files_are_versioned_and_cached, |app| {
    let app = app.with_org();
    let mut client = app.client();
    let login = client.get("/login").body;
    let link = login
        .split("href=\"/static/app.css?v=")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("versioned stylesheet link")
        .to_string();
    assert_eq!(link.len(), 16);
    let versioned = client.get(&format!("/static/app.css?v={link}"));
    assert_eq!(versioned.status, 200);
    assert_eq!(
        versioned.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(
        versioned.header("content-type"),
        Some("text/css; charset=utf-8")
    );
    let plain = client.get("/static/app.css");
    assert_eq!(plain.header("cache-control"), Some("public, max-age=300"));
    assert_eq!(client.get("/static/../Cargo.toml").status, 404);
    assert_eq!(client.get("/static/nope.js").status, 404);
});

db_test!(sign_in_never_redirects_off_site, |app| {
    let app = app.with_org();
    for next in [
        "/\t/evil.example/",
        "/\t\\evil.example",
        "/\u{b}/x",
        "//evil.example/",
        "/\\evil.example",
        "https://evil.example/",
        "/ /evil.example",
        "/\r\nSet-Cookie: x=1",
    ] {
        let mut client = app.client();
        let page = client.get(&format!(
            "/login?next={}",
            confer::urlencoded::url_encode(next)
        ));
        assert_eq!(page.status, 200, "{next:?}");
        let response = client.post_form(
            "/login",
            &[
                ("email", "owner@acme.test"),
                ("password", PASSWORD),
                ("next", next),
            ],
        );
        response.expect_redirect("/");
        assert_eq!(response.location.as_deref(), Some("/"), "{next:?}");
    }
    let mut client = app.client();
    let kept = client.post_form(
        "/login",
        &[
            ("email", "owner@acme.test"),
            ("password", PASSWORD),
            ("next", "/conversations?view=all&q=a%20b"),
        ],
    );
    assert_eq!(
        kept.location.as_deref(),
        Some("/conversations?view=all&q=a%20b")
    );
});
