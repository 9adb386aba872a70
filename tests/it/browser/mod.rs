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

mod collaboration;
mod identity;
mod live;
mod saved_replies;
mod security;
mod settings;
mod signing_in;
mod workspace;

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

    /// Presses keys where the focus is, as a person at the keyboard does
    /// (WebDriver key codes such as `\u{E009}` for Control stay held until
    /// the end of `keys`).
    fn press(&self, keys: &str) {
        self.rt
            .block_on(async { self.d().active_element().await?.send_keys(keys).await })
            .unwrap_or_else(|e| panic!("press {keys:?}: {e}"));
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
        // Two frames, so the page's resize handlers have run.
        self.rt
            .block_on(self.d().execute_async(
                "const done = arguments[arguments.length - 1];
                 requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
                vec![],
            ))
            .expect("frames after resize");
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
        if overflow != serde_json::json!(false) {
            // Name what sticks out, to find it without guessing.
            let wide = self.script(
                "return [...document.querySelectorAll('body *')]\
                 .filter(e => !(e.parentElement && e.parentElement.closest('.table-wrap')) \
                    && e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)\
                 .slice(0, 5).map(e => e.tagName + '.' + e.className);",
            );
            panic!("{name} scrolls sideways at 390 px: {wide}");
        }
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
