//! Browser tests in a real headless Chromium, driven through chromedriver.
//! Each test saves screenshots under `target/screenshots/` and runs axe-core
//! (from `tests/browser/node_modules`, installed by `tests/run.sh`) on every
//! page it visits, expecting zero violations.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use confer::policy::BuiltinRole;
use fantoccini::{Client as Driver, ClientBuilder, Locator};

use crate::db_test;
use crate::support::*;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

struct Browser {
    driver: Option<Driver>,
    chromedriver: Child,
    profile: PathBuf,
    rt: tokio::runtime::Runtime,
    base: String,
    label: String,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn axe_source() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/browser/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "axe-core is required for browser tests ({}: {e}). Run tests/run.sh, which installs it.",
            path.display()
        )
    })
}

impl Browser {
    fn open(app: &TestApp, label: &str) -> Self {
        for binary in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                std::path::Path::new(binary).exists(),
                "{binary} is required for browser tests: run tests/run.sh (it installs Debian's chromium and chromium-driver)"
            );
        }
        // Two rustls crypto providers are linked (lettre's and fantoccini's);
        // pick one. Only loopback HTTP to chromedriver is spoken anyway.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = free_port();
        let chromedriver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = std::env::temp_dir().join(format!("confer-chrome-{}", rand::random::<u64>()));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let capabilities = serde_json::json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        });
        let capabilities = capabilities.as_object().cloned().unwrap_or_default();
        let driver = rt.block_on(async {
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let attempt = ClientBuilder::rustls()
                    .expect("rustls")
                    .capabilities(capabilities.clone())
                    .connect(&format!("http://127.0.0.1:{port}"))
                    .await;
                match attempt {
                    Ok(driver) => break driver,
                    Err(e) if Instant::now() > deadline => {
                        panic!("chromedriver did not start: {e}")
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        });
        Self {
            driver: Some(driver),
            chromedriver,
            profile,
            rt,
            base: app.base_url.clone(),
            label: format!(
                "{}-{label}",
                match app.backend {
                    Backend::Sqlite => "sqlite",
                    Backend::Postgres => "postgres",
                }
            ),
        }
    }

    fn d(&self) -> &Driver {
        self.driver.as_ref().expect("driver")
    }

    fn goto(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.rt.block_on(self.d().goto(&url)).expect("goto");
    }

    fn path(&self) -> String {
        let url = self.rt.block_on(self.d().current_url()).expect("url");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    fn fill(&self, css: &str, text: &str) {
        self.rt.block_on(async {
            let field = self.d().find(Locator::Css(css)).await.expect(css);
            if field.attr("type").await.ok().flatten().as_deref() != Some("file") {
                field.clear().await.expect("clear");
            }
            field.send_keys(text).await.expect("type");
        });
    }

    /// Types at the end of a field without clearing it.
    fn type_more(&self, css: &str, text: &str) {
        self.rt
            .block_on(async {
                self.d()
                    .find(Locator::Css(css))
                    .await?
                    .send_keys(text)
                    .await
            })
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// Clicks the element; if a script re-rendered it between finding and
    /// clicking (a stale element), finds it again.
    fn click(&self, css: &str) {
        let mut attempts = 0;
        loop {
            let result = self
                .rt
                .block_on(async { self.d().find(Locator::Css(css)).await?.click().await });
            match result {
                Ok(()) => return,
                Err(e) if attempts < 10 && e.to_string().contains("stale element") => {
                    attempts += 1;
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => panic!("click {css}: {e}"),
            }
        }
    }

    /// Waits until an element matching `css` contains `needle` (after a
    /// form post that comes back to the same address, the old page is still
    /// there for a moment), and fails with what was there otherwise.
    fn wait_for_text(&self, css: &str, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found = self
                .rt
                .block_on(async { self.d().find(Locator::Css(css)).await?.text().await })
                .unwrap_or_default();
            if found.contains(needle) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{css} never contained {needle:?}; last: {found:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn text(&self, css: &str) -> String {
        self.rt
            .block_on(async { self.d().find(Locator::Css(css)).await?.text().await })
            .unwrap_or_else(|e| panic!("text of {css}: {e}"))
    }

    fn script(&self, js: &str) -> serde_json::Value {
        self.rt
            .block_on(self.d().execute(js, vec![]))
            .expect("script")
    }

    /// Waits until the page at `path` has loaded (after a click).
    fn wait_for_path(&self, expected: &str) {
        self.wait_for(|path| path == expected);
    }

    fn wait_for(&self, arrived: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !arrived(&self.path()) {
            assert!(Instant::now() < deadline, "still at {}", self.path());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn body_class(&self) -> String {
        self.script("return document.body.className")
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn screenshot(&self, name: &str) {
        let png = self.rt.block_on(self.d().screenshot()).expect("screenshot");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        std::fs::write(dir.join(format!("{}-{name}.png", self.label)), png)
            .expect("write screenshot");
    }

    /// Runs axe-core on the current page and fails on any violation.
    fn assert_accessible(&self) {
        self.script(&axe_source());
        let result = self
            .rt
            .block_on(self.d().execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] })
                   .then(r => done(r.violations.map(v => v.id + ': ' + v.help + ' @ ' +
                        v.nodes.map(n => n.target.join(' ')).join(', '))))
                   .catch(e => done(['axe failed: ' + e]));",
                vec![],
            ))
            .expect("axe");
        let violations: Vec<String> =
            serde_json::from_value(result).expect("axe-core returns a list of violations");
        assert!(
            violations.is_empty(),
            "axe-core violations on {}:\n{}",
            self.path(),
            violations.join("\n")
        );
    }

    /// Resizes the window (CSS pixels), e.g. 390 × 844 for a phone.
    fn resize(&self, width: u32, height: u32) {
        self.rt
            .block_on(self.d().set_window_size(width, height))
            .expect("resize");
    }

    /// The page at desktop and phone width: screenshots and axe at both,
    /// and no sideways scrolling on the phone.
    fn check_both_widths(&self, name: &str) {
        self.resize(1366, 800);
        self.check_page(&format!("{name}-1366"));
        self.resize(390, 844);
        self.check_page(&format!("{name}-390"));
        let overflow = self.script(
            "return document.documentElement.scrollWidth > document.documentElement.clientWidth;",
        );
        assert_eq!(
            overflow,
            serde_json::json!(false),
            "{name} scrolls sideways at 390 px"
        );
        self.resize(1280, 900);
    }

    /// Screenshot plus accessibility check of the current page.
    fn check_page(&self, name: &str) {
        self.screenshot(name);
        self.assert_accessible();
    }

    fn sign_in(&self, email: &str) {
        self.goto("/login");
        self.fill("#email", email);
        self.fill("#password", PASSWORD);
        self.click("form[action='/login'] button[type=submit]");
        self.wait_for_path("/");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(driver) = self.driver.take() {
            let _ = self.rt.block_on(driver.close());
        }
        let _ = self.chromedriver.kill();
        let _ = self.chromedriver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

db_test!(first_run_setup_in_the_browser, |app| {
    let browser = Browser::open(&app, "setup");
    browser.goto("/");
    browser.wait_for_path("/setup");
    browser.check_page("setup");
    browser.fill("#org_name", "Globex Support");
    browser.fill("#name", "Grace Hopper");
    browser.fill("#email", "grace@globex.test");
    browser.fill("#password", "short");
    browser.fill("#password_confirm", "short");
    browser.click("form[action='/setup'] button[type=submit]");
    browser.wait_for_text("#password-error", "Use at least 10 characters.");
    browser.check_page("setup-errors");
    browser.fill("#password", "a long enough password");
    browser.fill("#password_confirm", "a long enough password");
    browser.click("form[action='/setup'] button[type=submit]");
    browser.wait_for_path("/");
    assert!(browser.text("h1").contains("Hello, Grace"));
    assert_eq!(browser.body_class(), "layout-workspace");
    browser.check_page("owner-home-after-setup");
    browser.goto("/settings/organisation");
    browser.check_page("settings-organisation");
    browser.goto("/profile");
    browser.check_page("profile");
});

db_test!(each_role_signs_in_to_its_layout_and_signs_out, |app| {
    let app = app.with_org();
    let support = app.team("Support");
    app.user("manager@acme.test", "Mia Manager")
        .role(BuiltinRole::Manager)
        .in_team(support)
        .create();
    app.user("agent@acme.test", "Alan Agent")
        .in_team(support)
        .create();
    app.user("collab@acme.test", "Cora Collaborator")
        .collaborator()
        .in_team(support)
        .create();
    let browser = Browser::open(&app, "roles");
    browser.goto("/login");
    browser.check_page("login");
    browser.click("a[href='/password/forgot']");
    browser.wait_for_path("/password/forgot");
    browser.check_page("password-forgot");
    browser.goto("/contact");
    browser.check_page("contact");
    browser.goto("/login");
    let cases = [
        (
            "owner@acme.test",
            "owner",
            "layout-workspace",
            "Signed in as Owner",
        ),
        (
            "manager@acme.test",
            "manager",
            "layout-workspace",
            "Signed in as Manager",
        ),
        (
            "agent@acme.test",
            "agent",
            "layout-workspace",
            "Signed in as Agent",
        ),
        (
            "collab@acme.test",
            "collaborator",
            "layout-collaborator",
            "You are a collaborator",
        ),
    ];
    for (email, name, layout, role_line) in cases {
        browser.sign_in(email);
        assert_eq!(browser.body_class(), layout, "{email}");
        assert!(
            browser.text("[data-testid=role]").contains(role_line),
            "{email}"
        );
        let settings_links =
            browser.script("return document.querySelectorAll('a[href=\"/settings\"]').length");
        let reaches_settings = matches!(name, "owner" | "manager");
        assert_eq!(
            settings_links.as_u64() == Some(1),
            reaches_settings,
            "{email}: Settings entry ({settings_links})"
        );
        let striped =
            browser.script("return document.querySelectorAll('.avatar--collaborator').length");
        assert_eq!(
            striped.as_u64() == Some(1),
            name == "collaborator",
            "{email}: avatar line"
        );
        browser.check_page(&format!("home-{name}"));
        browser.click("form[action='/logout'] button[type=submit]");
        browser.wait_for_path("/login?signed_out=1");
        assert!(
            browser
                .text("[role=status]")
                .contains("You have been signed out.")
        );
        browser.goto("/");
        browser.wait_for_path("/login?next=/");
    }
});

db_test!(
    a_post_without_the_csrf_token_is_refused_in_the_browser,
    |app| {
        let app = app.with_org();
        let browser = Browser::open(&app, "csrf");
        browser.sign_in("owner@acme.test");
        browser.goto("/profile");
        browser.script(
            "document.querySelector('form[action=\"/profile\"] input[name=csrf_token]').remove()",
        );
        browser.fill("#name", "Mallory");
        browser.click("form[action='/profile'] button[type=submit]");
        browser.wait_for_text("h1", "The form expired");
        browser.check_page("csrf-refused");
        let user = confer::models::user::User::find_by_email(&mut app.conn(), "owner@acme.test")
            .expect("q")
            .expect("owner");
        assert_eq!(user.name, "Olivia Owner", "nothing was changed");
        browser.goto("/no-such-page");
        assert!(browser.text("h1").contains("Page not found"));
        browser.check_page("not-found");
    }
);

db_test!(
    a_manager_invites_a_collaborator_who_signs_up_in_the_browser,
    |app| {
        let app = app.with_org();
        let support = app.team("Support");
        app.user("manager@acme.test", "Mia Manager")
            .role(BuiltinRole::Manager)
            .in_team(support)
            .create();
        app.user("agent@acme.test", "Alan Agent")
            .in_team(support)
            .create();
        let sink = crate::smtp::SmtpSink::start();
        let browser = Browser::open(&app, "invite");
        browser.sign_in("manager@acme.test");
        browser.goto("/settings/users");
        browser.check_page("users-list");
        browser.click("a[href='/settings/users/new']");
        browser.wait_for_path("/settings/users/new");
        browser.check_page("add-user");
        browser.click("input[name=user_type][value=collaborator]");
        let role_hidden =
            browser.script("return document.querySelector('[data-role-field]').hidden");
        assert_eq!(
            role_hidden.as_bool(),
            Some(true),
            "no role field for collaborators"
        );
        browser.fill("#name", "Nora Notes");
        // A valid address the server refuses (the browser checks the format).
        browser.fill("#email", "AGENT@acme.test");
        browser.click("form[action='/settings/users/new'] button[type=submit]");
        browser.wait_for_text("#email-error", "already has this email address");
        assert_eq!(
            browser
                .script("return document.querySelector('#name').value")
                .as_str(),
            Some("Nora Notes")
        );
        browser.check_page("add-user-errors");
        browser.fill("#email", "nora@partner.test");
        browser.click(&format!("input[name=teams][value='{support}']"));
        browser.click("form[action='/settings/users/new'] button[type=submit]");
        browser.wait_for(|path| path.ends_with("?notice=invited"));
        let nora = app.user_id("nora@partner.test");
        assert_eq!(
            browser.path(),
            format!("/settings/users/{nora}?notice=invited")
        );
        browser.check_page("user-invited");

        assert_eq!(app.run_jobs(Some(sink.port)).sent, 1);
        let mail = sink.wait_for(1)[0].clone();
        let link = mail.link("http://127.0.0.1/invitations/").expect("link");
        browser.click("form[action='/logout'] button[type=submit]");
        browser.wait_for_path("/login?signed_out=1");
        browser.goto(link.trim_start_matches("http://127.0.0.1"));
        browser.check_page("invitation");
        browser.fill("#password", "nora's long password");
        browser.fill("#password_confirm", "nora's long password");
        browser.click("form button[type=submit]");
        browser.wait_for_path("/");
        assert_eq!(browser.body_class(), "layout-collaborator");
        browser.check_page("collaborator-after-invitation");
    }
);

db_test!(
    a_deactivated_user_is_signed_out_on_their_next_click,
    |app| {
        let app = app.with_org();
        app.user("admin@acme.test", "Ada Admin")
            .role(BuiltinRole::Admin)
            .create();
        app.user("agent@acme.test", "Alan Agent").create();
        let agent = Browser::open(&app, "deactivate-agent");
        agent.sign_in("agent@acme.test");
        let admin = Browser::open(&app, "deactivate-admin");
        admin.sign_in("admin@acme.test");
        let alan = app.user_id("agent@acme.test");
        admin.goto(&format!("/settings/users/{alan}"));
        admin.check_page("user-page");
        admin.click(&format!("a[href='/settings/users/{alan}/deactivate']"));
        admin.wait_for_path(&format!("/settings/users/{alan}/deactivate"));
        admin.check_page("deactivate-confirm");
        admin.click("form[action$='/deactivate'] button[type=submit]");
        admin.wait_for_path(&format!("/settings/users/{alan}?notice=deactivated"));
        assert!(admin.text("[role=status]").contains("deactivated"));
        agent.click("nav.mainnav a[href='/']");
        agent.wait_for_path("/login?next=/");
        agent.check_page("login-after-deactivation");
    }
);

db_test!(the_import_preview_in_the_browser, |app| {
    let app = app.with_org();
    app.team("Support");
    app.user("admin@acme.test", "Ada Admin")
        .role(BuiltinRole::Admin)
        .create();
    let file = std::env::temp_dir().join(format!("confer-import-{}.csv", rand::random::<u32>()));
    std::fs::write(
        &file,
        "name,email,type,role,teams\nAda Lovelace,ada@new.test,full_time,agent,Support\nBad Row,nope,full_time,agent,\n",
    )
    .expect("csv");
    let browser = Browser::open(&app, "import");
    browser.sign_in("admin@acme.test");
    browser.goto("/settings/users/import");
    browser.check_page("import");
    browser.fill("#file", &file.to_string_lossy());
    browser.click("form[enctype='multipart/form-data'] button[type=submit]");
    // The preview answers the post at the same address, the CSRF token
    // in the body, never in the URL.
    browser.wait_for_text(
        "[data-testid=import-summary]",
        "1 to add, 0 to update, 0 unchanged, 1 with errors.",
    );
    assert_eq!(browser.path(), "/settings/users/import");
    browser.check_page("import-preview");
    browser.click("form[action^='/settings/users/import/confirm'] button[type=submit]");
    browser.wait_for_path("/settings/users?notice=imported&added=1&updated=0");
    assert_eq!(app.count("users WHERE email = 'ada@new.test'"), 1);
    let _ = std::fs::remove_file(file);
});

db_test!(every_settings_page_passes_axe, |app| {
    let app = app.with_org();
    let team = app.staff();
    let agent = app.user_id("agent@acme.test");
    app.sql(
        "INSERT INTO roles (key, name, builtin, permissions, created_at) \
         VALUES ('custom-x', 'Readers', FALSE, 'kb.view reports.view', '2026-01-01 00:00:00')",
    );
    let role = app.count("roles WHERE builtin = FALSE");
    assert_eq!(role, 1);
    let browser = Browser::open(&app, "sweep");
    browser.sign_in("owner@acme.test");
    // Something in the audit log, and a deactivated user to reactivate.
    browser.goto("/settings/teams");
    browser.fill("#name", "Escalations");
    browser.click("form[action='/settings/teams'] button[type=submit]");
    browser.wait_for(|path| path.ends_with("?notice=created"));
    let pages = [
        ("teams", "/settings/teams".to_string()),
        ("team", format!("/settings/teams/{team}")),
        ("roles", "/settings/roles".to_string()),
        ("role-new", "/settings/roles/new".to_string()),
        ("audit", "/settings/audit".to_string()),
        ("dormant", "/settings/users/dormant".to_string()),
        ("pending", "/settings/users?tab=pending".to_string()),
        ("user-agent", format!("/settings/users/{agent}")),
        ("deactivate", format!("/settings/users/{agent}/deactivate")),
        ("organisation", "/settings/organisation".to_string()),
        ("outbox", "/settings/outbox".to_string()),
        ("email", "/settings/email".to_string()),
    ];
    for (name, path) in pages {
        browser.goto(&path);
        assert_eq!(browser.path(), path, "{name} did not open");
        browser.check_page(name);
    }
    browser.goto("/settings/roles");
    browser.click("a[href^='/settings/roles/']:not([href='/settings/roles/new'])");
    browser.wait_for(|path| path.starts_with("/settings/roles/") && path != "/settings/roles/new");
    browser.check_page("role-edit");
});

db_test!(customer_pages_pass_axe_in_both_layouts, |app| {
    let app = app.with_org();
    app.staff();
    let carl = app.customer_with_phone();
    let browser = Browser::open(&app, "customers");
    browser.sign_in("agent@acme.test");
    browser.goto("/customers");
    browser.check_page("customers-agent");
    browser.click("a[href='/customers/new']");
    browser.wait_for_path("/customers/new");
    browser.check_page("customer-new");
    browser.goto("/organizations/new");
    browser.fill("#name", "Globex");
    browser.fill("#domains", "customer.test");
    browser.click("form[action='/organizations/new'] button[type=submit]");
    browser.wait_for(|path| path.ends_with("?notice=saved"));
    browser.check_page("organization-agent");
    browser.goto("/organizations");
    browser.check_page("organizations-agent");
    browser.click("form[action='/logout'] button[type=submit]");
    browser.wait_for_path("/login?signed_out=1");
    browser.sign_in("collab@acme.test");
    browser.goto(&format!("/customers/{carl}"));
    browser.fill(
        "#body",
        "Prefers **email**; see [docs](https://example.com/docs).",
    );
    browser.click("#notes form button[type=submit]");
    browser.wait_for_text("#notes .note-body", "Prefers email");
    assert_eq!(browser.body_class(), "layout-collaborator");
    browser.check_page("customer-collaborator");
});

db_test!(an_agent_replies_and_a_collaborator_adds_a_note, |app| {
    let app = app.with_org();
    let support = app.staff();
    let carl = app.customer_with_phone();
    let alan = app.user_id("agent@acme.test");
    let id = app.conversation("Printer on fire", carl, Some(support), Some(alan), "open");
    let agent = Browser::open(&app, "conversation-agent");
    agent.sign_in("agent@acme.test");
    agent.click("nav.mainnav a[href='/conversations']");
    agent.wait_for_path("/conversations");
    agent.check_page("inbox");
    agent.click(&format!("a[href='/conversations/{id}']"));
    agent.wait_for_path(&format!("/conversations/{id}"));
    agent.fill("#reply", "Please **unplug** it.");
    agent.click("#reply-form button[type=submit]");
    agent.wait_for_path(&format!("/conversations/{id}?notice=replied"));
    // The suggestion list offers Cora after "@Cor"; choosing inserts her name.
    agent.fill("#note", "@Cor");
    agent.wait_for_text("#mention-list", "Cora Collaborator");
    agent.click("#mention-list li");
    agent.type_more("#note", "is this the batch with the bad toner?");
    let typed = agent.script("return document.querySelector('#note').value");
    assert_eq!(
        typed.as_str(),
        Some("@Cora Collaborator is this the batch with the bad toner?")
    );
    agent.click("#note-form button[type=submit]");
    agent.wait_for_path(&format!("/conversations/{id}?notice=noted"));
    agent.check_page("conversation-workspace");

    let collaborator = Browser::open(&app, "conversation-collaborator");
    collaborator.sign_in("collab@acme.test");
    assert!(
        collaborator.text("[data-testid=unread]").contains('1'),
        "the bell shows the mention"
    );
    collaborator.click("a.bell");
    collaborator.wait_for_path("/notifications");
    collaborator.check_page("notifications");
    collaborator.goto(&format!("/conversations/{id}"));
    assert_eq!(collaborator.body_class(), "layout-collaborator");
    let reply_controls = collaborator.script(
        "return document.querySelectorAll('#reply, #reply-form, form[action$=\"/reply\"], form[action$=\"/properties\"]').length",
    );
    assert_eq!(
        reply_controls.as_u64(),
        Some(0),
        "no reply or property controls"
    );
    collaborator.check_page("conversation-collaborator");
    collaborator.fill("#note", "Yes — batch 42. Replace the cartridge.");
    collaborator.click("#note-form button[type=submit]");
    collaborator.wait_for_path(&format!("/conversations/{id}?notice=noted"));

    agent.goto(&format!("/conversations/{id}"));
    agent.wait_for_text(".thread", "Replace the cartridge.");
    agent.goto("/search?q=cartridge");
    agent.wait_for_text("main", "Printer on fire");
    agent.check_page("search");
    assert_eq!(
        app.count("outbox WHERE kind = 'reply'"),
        1,
        "only the reply goes to the customer"
    );
});

db_test!(an_emailed_conversation_with_files_in_the_browser, |app| {
    let app = app.with_org();
    let support = app.staff();
    app.sql(&format!(
        "UPDATE org_settings SET intake_team_id = {support}"
    ));
    let token = app.inbound_token();
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/mail");
    let mut mta = app.client();
    let logo = mta.post_mail(
        &token,
        &std::fs::read(format!("{fixtures}/inline_image.eml")).expect("fixture"),
    );
    assert_eq!(logo.status, 200, "{}", logo.body);
    let id: serde_json::Value = serde_json::from_str(&logo.body).expect("json");
    let id = id["conversation_id"].as_i64().expect("conversation");
    let outlook = std::fs::read_to_string(format!("{fixtures}/outlook_original_message.eml"))
        .expect("fixture")
        .replace(
            "Subject: RE: Invoice question",
            &format!("Subject: RE: Logo [#{id}]"),
        );
    assert_eq!(mta.post_mail(&token, outlook.as_bytes()).status, 200);

    let browser = Browser::open(&app, "email");
    browser.sign_in("agent@acme.test");
    browser.goto(&format!("/conversations/{id}"));
    browser.wait_for_text(".thread", "Any news?");
    // The inline image really loads (served by Confer, nothing remote).
    let width =
        browser.script("return document.querySelector('img.attachment-image').naturalWidth");
    assert_eq!(width.as_u64(), Some(1), "the 1x1 logo is shown");
    // Quoted history is folded away until asked for.
    let hidden =
        browser.script("const d = document.querySelector('details.quoted'); return d.open");
    assert_eq!(hidden.as_bool(), Some(false));
    browser.click("details.quoted summary");
    browser.wait_for_text("details.quoted", "Please send us the invoice number.");
    browser.check_page("email-conversation");

    // A reply with a file chosen in the file input.
    let file = std::env::temp_dir().join(format!("confer-upload-{}.txt", rand::random::<u32>()));
    std::fs::write(&file, "step 1: unplug\n").expect("file");
    browser.fill("#reply", "The steps are attached.");
    browser.fill("#reply-files", &file.to_string_lossy());
    browser.click("#reply-form button[type=submit]");
    browser.wait_for_path(&format!("/conversations/{id}?notice=replied"));
    let name = file
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    browser.wait_for_text(".thread", &name);
    let _ = std::fs::remove_file(&file);
    assert_eq!(app.count("outbox_attachments"), 1);

    browser.click("form[action='/logout'] button[type=submit]");
    browser.wait_for_path("/login?signed_out=1");
    browser.sign_in("owner@acme.test");
    browser.goto("/settings/email");
    browser.wait_for_text("main", "Added to conversation");
    browser.check_page("email-settings");
});

db_test!(the_help_center_and_a_collaborator_editing_a_draft, |app| {
    let app = app.with_org();
    app.staff();
    let mut manager = app.sign_in("manager@acme.test");
    manager
        .post_form("/kb/categories", &[("name", "Getting started")])
        .expect_done();
    manager
        .post_form("/kb/sections", &[("name", "Accounts"), ("category", "1")])
        .expect_done();
    for (title, body) in [
        (
            "Reset your password",
            "Open **Settings** and choose *Reset*.\n\n- Check your inbox\n- Follow the link",
        ),
        ("Two-factor sign-in", "Draft: use an authenticator app."),
    ] {
        let created = manager.post_form(
            "/kb/articles/new",
            &[
                ("section", "1"),
                ("language", "en"),
                ("title", title),
                ("body", body),
            ],
        );
        created.expect_redirect("/kb/articles/*");
    }
    manager
        .post_form("/kb/articles/1/publish", &[])
        .expect_done();

    let visitor = Browser::open(&app, "help");
    visitor.goto("/help");
    visitor.wait_for_text("main", "Reset your password");
    assert!(
        !visitor.text("main").contains("Two-factor"),
        "no drafts in public"
    );
    visitor.check_page("help-home");
    visitor.click("a[href='/help/articles/1-reset-your-password']");
    visitor.wait_for_path("/help/articles/1-reset-your-password");
    visitor.wait_for_text("article h1", "Reset your password");
    visitor.check_page("help-article");
    visitor.goto("/help");
    visitor.fill("#help-q", "password");
    visitor.click("form.help-search button[type=submit]");
    visitor.wait_for_text("main", "Reset your password");
    visitor.check_page("help-search");

    let collaborator = Browser::open(&app, "kb-collaborator");
    collaborator.sign_in("collab@acme.test");
    collaborator.goto("/kb");
    collaborator.check_page("kb-collaborator");
    collaborator.goto("/kb/articles/2");
    collaborator.click("a[href='/kb/articles/2/edit']");
    collaborator.wait_for_path("/kb/articles/2/edit");
    collaborator.check_page("kb-edit-draft");
    collaborator.fill(
        "#body",
        "Use an authenticator app, and keep your backup codes.",
    );
    collaborator.click("form[action='/kb/articles/2/edit'] button[type=submit]");
    collaborator.wait_for_path("/kb/articles/2?notice=saved");
    collaborator.wait_for_text("article", "keep your backup codes");
    collaborator.check_page("kb-draft-saved");
    collaborator.goto("/kb/articles/2/revisions");
    collaborator.wait_for_text("[data-testid=diff]", "keep your backup codes");
    collaborator.check_page("kb-revisions");
    assert_eq!(app.count("kb_revisions WHERE article_id = 2"), 2);
});

db_test!(reports_and_tasks_in_the_browser, |app| {
    let app = app.with_org();
    let support = app.staff();
    let carl = app.customer_with_phone();
    let id = app.conversation("Printer on fire", carl, Some(support), None, "open");
    let mut owner = app.sign_in("owner@acme.test");
    owner
        .post_form(&format!("/conversations/{id}/reply"), &[("body", "On it.")])
        .expect_done();
    owner
        .post_form(
            &format!("/conversations/{id}/notes"),
            &[("body", "@Cora Collaborator have a look")],
        )
        .expect_done();

    let manager = Browser::open(&app, "reports");
    manager.sign_in("manager@acme.test");
    manager.click("nav.mainnav a[href='/reports']");
    manager.wait_for_path("/reports");
    manager.wait_for_text("[data-testid=times]", "First response");
    manager.check_page("reports");
    manager.goto(&format!("/tasks/new?conversation={id}"));
    manager.fill("#title", "Order toner");
    manager.click("form[action='/tasks/new'] button[type=submit]");
    manager.wait_for(|path| path.starts_with("/tasks/") && path.ends_with("?notice=created"));
    manager.check_page("task");
    manager.goto("/tasks?view=created");
    manager.check_page("tasks");
    manager.goto(&format!("/conversations/{id}"));
    manager.wait_for_text("#tasks-title", "Tasks");
    manager.check_page("conversation-with-tasks");
});

db_test!(
    api_tokens_scim_and_webhooks_in_the_browser,
    configure = crate::support::allow_private_webhooks,
    |app| {
        let app = app.with_org();
        app.staff();
        let browser = Browser::open(&app, "api");
        browser.sign_in("admin@acme.test");
        // A personal token: created on the profile's token page, shown once.
        browser.goto("/profile");
        browser.click("a[href='/profile/tokens']");
        browser.wait_for_path("/profile/tokens");
        browser.fill("#name", "Zapier");
        browser.click("form[action='/profile/tokens'] button[type=submit]");
        browser.wait_for_text("[data-testid=new-token]", "confer_pat_");
        let token = browser.text("[data-testid=new-token]");
        browser.check_page("profile-tokens");
        let mut api = app.client();
        let me = api.api("GET", "/api/v1/me", Some(&token), None, &[]);
        assert_eq!(me.json()["email"], "admin@acme.test");
        // The API reference renders the document.
        browser.goto("/api/docs");
        assert!(
            browser
                .text("main")
                .contains("/api/v1/conversations/{id}/replies")
        );
        browser.check_page("api-docs");
        // Settings > API & SCIM: the token is listed; a SCIM token is made.
        browser.goto("/settings");
        browser.click("a[href='/settings/api']");
        browser.wait_for_path("/settings/api");
        assert!(browser.text("main").contains("Zapier"));
        browser.click("form[action='/settings/api/scim-token'] button[type=submit]");
        browser.wait_for_text("[data-testid=scim-token]", "confer_scim_");
        let scim = browser.text("[data-testid=scim-token]");
        browser.check_page("settings-api");
        let users = api.api(
            "GET",
            "/scim/v2/Users?filter=userName%20eq%20%22agent%40acme.test%22",
            Some(&scim),
            None,
            &[],
        );
        assert_eq!(users.status, 200, "{}", users.body);
        assert_eq!(users.json()["totalResults"], 1);
        // Settings > Webhooks: one with an event, its page and log.
        browser.click("a[href='/settings/webhooks']");
        browser.wait_for_path("/settings/webhooks");
        browser.check_page("settings-webhooks");
        browser.fill("#url", "http://127.0.0.1:9/hooks");
        browser.click("#event-note\\.added");
        browser.click("form[action='/settings/webhooks'] button[type=submit]");
        browser.wait_for(|path| path.starts_with("/settings/webhooks/"));
        assert!(
            browser
                .text("[data-testid=webhook-secret]")
                .starts_with("whsec_")
        );
        browser.click("form[action$='/test'] button[type=submit]");
        browser.wait_for_text("main", "webhook.test");
        browser.check_page("settings-webhook");
        drop(browser);
        // A collaborator has tokens and the reference too, in their own layout;
        // their token may add notes and may not reply.
        let collab = Browser::open(&app, "api-collab");
        collab.sign_in("collab@acme.test");
        collab.goto("/profile/tokens");
        collab.fill("#name", "Notes bot");
        collab.click("form[action='/profile/tokens'] button[type=submit]");
        collab.wait_for_text("[data-testid=new-token]", "confer_pat_");
        let token = collab.text("[data-testid=new-token]");
        assert!(collab.body_class().contains("layout-collaborator"));
        collab.check_page("collab-tokens");
        collab.goto("/api/docs");
        collab.check_page("collab-api-docs");
        let customer = app.customer("Carla Customer", "carla@example.com");
        let team = app.user_id("collab@acme.test");
        let support: i64 =
            confer::models::team::Team::ids_of_user(&mut app.conn(), team).unwrap()[0];
        let conversation =
            app.conversation("Printer on fire", customer, Some(support), None, "open");
        let note = json_note(&mut api, &token, conversation, "notes");
        assert_eq!(note, 201);
        assert_eq!(json_note(&mut api, &token, conversation, "replies"), 403);
    }
);

/// Posts `{"body": …}` to a conversation's notes or replies with a token.
fn json_note(
    client: &mut crate::support::Client,
    token: &str,
    conversation: i64,
    kind: &str,
) -> u16 {
    client
        .api(
            "POST",
            &format!("/api/v1/conversations/{conversation}/{kind}"),
            Some(token),
            Some(&serde_json::json!({ "body": "From the API" })),
            &[],
        )
        .status
}

// Issue 14 as its users meet it: a lead editing their own role sees only
// their own permissions; a refused webhook target, a search too long and an
// oversized form each get a clear page, in the reader's language.
db_test!(security_refusals_in_the_browser, |app| {
    let app = app.with_org();
    app.staff();
    app.sql(
        "INSERT INTO roles (key, name, builtin, permissions, created_at) \
         VALUES ('custom-lead', 'Lead', FALSE, 'users.view users.manage_roles conversations.view_all', '2026-01-01 00:00:00')",
    );
    let lead_role: i64 = {
        use confer::db::schema::roles;
        use diesel::prelude::*;
        roles::table
            .filter(roles::key.eq("custom-lead"))
            .select(roles::id)
            .first(&mut app.conn())
            .expect("role")
    };
    let lee = app.user("lee@acme.test", "Lee Lead").create();
    app.sql(&format!(
        "UPDATE users SET role_id = {lead_role} WHERE id = {lee}"
    ));
    app.user("lucia@acme.test", "Lucía Gómez")
        .language("es")
        .create();

    let browser = Browser::open(&app, "security");
    browser.sign_in("lee@acme.test");
    browser.goto(&format!("/settings/roles/{lead_role}"));
    let form = browser.text("main");
    assert!(
        form.contains("View the list of users") && form.contains("Manage roles"),
        "{form}"
    );
    assert!(
        browser
            .script("return document.querySelector(\"input[value='settings.org']\") === null;")
            .as_bool()
            .unwrap_or(false),
        "a permission the lead lacks is not offered"
    );
    browser.check_both_widths("role-form-lead");

    let long = "a".repeat(600);
    browser.goto(&format!("/search?q={long}"));
    browser.wait_for_text("main", "Search for at most 500 characters.");
    browser.check_both_widths("search-too-long");
    drop(browser);

    let browser = Browser::open(&app, "security-es");
    browser.sign_in("lucia@acme.test");
    browser.goto(&format!("/search?q={long}"));
    browser.wait_for_text("main", "Busca como máximo 500 caracteres.");
    browser.check_both_widths("search-too-long-es");
    drop(browser);

    let browser = Browser::open(&app, "security-admin");
    browser.sign_in("admin@acme.test");
    browser.goto("/settings/webhooks");
    browser.fill("#url", "http://169.254.169.254/latest/meta-data/");
    browser.click("#event-note\\.added");
    browser.click("form[action='/settings/webhooks'] button[type=submit]");
    browser.wait_for_text("main", "a private, loopback or link-local network");
    assert!(
        browser
            .script("return document.querySelector('#url').value;")
            .as_str()
            .is_some_and(|v| v.contains("169.254.169.254")),
        "what was typed is kept"
    );
    browser.check_both_widths("webhook-private");
    assert_eq!(app.count("webhooks"), 0);
});
