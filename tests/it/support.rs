//! The test harness: `TestApp` runs the real application on a loopback port
//! against a fresh database (a SQLite file, or a PostgreSQL database cloned
//! from a migrated template), and `Client` talks to it like a browser would
//! (cookies, forms, CSRF tokens) without following redirects.
//!
//! PostgreSQL and Chromium are never skipped: a test that needs one fails
//! with a message saying how to provide it (`tests/run.sh` does).

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use actix_web::{HttpServer, web};
use confer::app::build_app;
use confer::config::Config;
use confer::db::{DatabaseUrl, DbConn, PooledConn};
use confer::models::org::{NewOrgSettings, ORG_ID, OrgSettings};
use confer::models::role::Role;
use confer::models::team::{NewTeam, Team};
use confer::models::user::{NewUser, User};
use confer::policy::{BuiltinRole, ConversationAccess, UserType};
use confer::state::{AppState, Clock};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

pub const PASSWORD: &str = "correct horse battery";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs the body once on SQLite and once on PostgreSQL, as two tests named
/// `<name>::sqlite` and `<name>::postgres`.
#[macro_export]
macro_rules! db_test {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[test]
            fn sqlite() {
                let f: fn($crate::support::TestApp) = $body;
                f($crate::support::TestApp::start(
                    $crate::support::Backend::Sqlite,
                ));
            }
            #[test]
            fn postgres() {
                let f: fn($crate::support::TestApp) = $body;
                f($crate::support::TestApp::start(
                    $crate::support::Backend::Postgres,
                ));
            }
        }
    };
    // The same with the configuration changed first (`configure: fn(&mut Config)`).
    ($name:ident, configure = $configure:expr, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[test]
            fn sqlite() {
                let f: fn($crate::support::TestApp) = $body;
                f($crate::support::TestApp::start_with(
                    $crate::support::Backend::Sqlite,
                    $configure,
                ));
            }
            #[test]
            fn postgres() {
                let f: fn($crate::support::TestApp) = $body;
                f($crate::support::TestApp::start_with(
                    $crate::support::Backend::Postgres,
                    $configure,
                ));
            }
        }
    };
}

pub struct TestApp {
    pub backend: Backend,
    pub base_url: String,
    pub state: web::Data<AppState>,
    pub clock: Clock,
    server: Option<actix_web::dev::ServerHandle>,
    thread: Option<std::thread::JoinHandle<()>>,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteFile(PathBuf),
    PostgresDb(String),
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_name() -> String {
    format!(
        "confer_t_{}_{}_{:x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        rand::random::<u32>()
    )
}

/// The PostgreSQL server tests use: `CONFER_TEST_PG_URL`, default the local one.
pub fn pg_admin_url() -> String {
    std::env::var("CONFER_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://127.0.0.1:5432/postgres".into())
}

fn pg_url_for(db: &str) -> String {
    let admin = pg_admin_url();
    // Replace the path (database name) of the admin URL, keep the query.
    let (base, query) = admin
        .split_once('?')
        .map_or((admin.as_str(), None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut url = format!("{}/{db}", &base[..host_end]);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

fn pg_admin() -> PgConnection {
    PgConnection::establish(&pg_admin_url()).unwrap_or_else(|e| {
        panic!(
            "PostgreSQL is required for the PostgreSQL half of the suite and did not answer at {} ({e}). \
             Run tests/run.sh, which starts one, or set CONFER_TEST_PG_URL.",
            pg_admin_url()
        )
    })
}

/// Name of the migrated template database; changes whenever a migration does.
fn pg_template() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = format!("confer_tpl_{:016x}", migrations_fingerprint());
        let mut admin = pg_admin();
        admin
            .batch_execute("SELECT pg_advisory_lock(4242)")
            .expect("advisory lock");
        #[derive(QueryableByName)]
        struct Found {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let found: Found = diesel::sql_query(format!(
            "SELECT count(*) AS n FROM pg_database WHERE datname = '{name}'"
        ))
        .get_result(&mut admin)
        .expect("look for template");
        if found.n == 0 {
            let building = format!("{name}_building");
            let _ =
                admin.batch_execute(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"));
            admin
                .batch_execute(&format!("CREATE DATABASE {building}"))
                .expect("create template database");
            let config = test_config(DatabaseUrl::Postgres(pg_url_for(&building)));
            let pool = confer::cli::prepare(&config).expect("migrate template");
            drop(pool);
            admin
                .batch_execute(&format!("ALTER DATABASE {building} RENAME TO {name}"))
                .expect("rename template");
        }
        admin
            .batch_execute("SELECT pg_advisory_unlock(4242)")
            .expect("advisory unlock");
        name
    })
}

fn migrations_fingerprint() -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("migrations dir")
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten())
        .map(|e| e.path())
        .collect();
    files.sort();
    for file in files {
        file.hash(&mut hasher);
        std::fs::read(&file).unwrap_or_default().hash(&mut hasher);
    }
    hasher.finish()
}

pub fn test_config(database_url: DatabaseUrl) -> Config {
    let data_dir = std::env::temp_dir()
        .join("confer-tests")
        .join(unique_name());
    Config::from_lookup(|name| match name {
        "CONFER_DATA_DIR" => Some(data_dir.to_string_lossy().into_owned()),
        "CONFER_SECRET_KEY" => Some("test-secret-key-that-is-long-enough-0123456789".into()),
        "CONFER_BCRYPT_COST" => Some("4".into()),
        "CONFER_PUBLIC_URL" => Some("http://127.0.0.1".into()),
        _ => None,
    })
    .map(|mut c| {
        c.database_url = database_url;
        c
    })
    .expect("test config")
}

/// For tests whose webhook receivers listen on loopback.
pub fn allow_private_webhooks(config: &mut Config) {
    config.webhook_allow_private = true;
}

impl TestApp {
    /// A running app with an empty database (no organisation yet).
    pub fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {})
    }

    /// The same, with the test configuration changed by `configure` first.
    pub fn start_with(backend: Backend, configure: fn(&mut Config)) -> Self {
        Self::start_inner(backend, configure, false)
    }

    /// A running app whose `CONFER_PUBLIC_URL` is the address it really
    /// listens on (for flows through another server that redirects back,
    /// like single sign-on).
    pub fn start_at_own_url(backend: Backend) -> Self {
        Self::start_inner(backend, |_| {}, true)
    }

    fn start_inner(backend: Backend, configure: fn(&mut Config), own_url: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let (url, cleanup) = match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join("confer-tests");
                std::fs::create_dir_all(&dir).expect("temp dir");
                let path = dir.join(format!("{}.db", unique_name()));
                (DatabaseUrl::Sqlite(path.clone()), Cleanup::SqliteFile(path))
            }
            Backend::Postgres => {
                let template = pg_template();
                let name = unique_name();
                pg_admin()
                    .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
                    .expect("create test database");
                (
                    DatabaseUrl::Postgres(pg_url_for(&name)),
                    Cleanup::PostgresDb(name),
                )
            }
        };
        let mut config = test_config(url);
        configure(&mut config);
        if own_url {
            config.public_url = format!("http://127.0.0.1:{port}");
        }
        let pool = confer::cli::prepare(&config).expect("prepare database");
        let clock = Clock::default();
        let state = web::Data::new(AppState::new(pool, config, clock.clone()));
        let (tx, rx) = std::sync::mpsc::channel();
        let server_state = state.clone();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || build_app(server_state.clone()))
                    .workers(1)
                    .disable_signals()
                    .shutdown_timeout(1)
                    .listen(listener)
                    .expect("listen")
                    .run();
                tx.send(server.handle()).expect("send handle");
                let _ = server.await;
            })
        });
        let handle = rx.recv().expect("server handle");
        Self {
            backend,
            base_url: format!("http://127.0.0.1:{port}"),
            state,
            clock,
            server: Some(handle),
            thread: Some(thread),
            cleanup,
        }
    }

    pub fn conn(&self) -> PooledConn {
        self.state.pool.get().expect("pooled connection")
    }

    pub fn client(&self) -> Client {
        Client::new(&self.base_url)
    }

    /// An organisation and its owner, as `/setup` would leave them.
    pub fn with_org(self) -> Self {
        let now = self.clock.now();
        OrgSettings::create(
            &mut self.conn(),
            &NewOrgSettings {
                id: ORG_ID,
                name: "Acme Support",
                default_language: "en",
                timezone: "Europe/Berlin",
                created_at: now,
                updated_at: now,
            },
        )
        .expect("org");
        self.user("owner@acme.test", "Olivia Owner")
            .role(BuiltinRole::Owner)
            .create();
        self
    }

    /// The usual cast: a Support team with a manager, an agent and a
    /// collaborator in it, and an admin. Returns the team's id.
    pub fn staff(&self) -> i64 {
        let support = self.team("Support");
        self.user("admin@acme.test", "Ada Admin")
            .role(BuiltinRole::Admin)
            .create();
        self.user("manager@acme.test", "Mia Manager")
            .role(BuiltinRole::Manager)
            .in_team(support)
            .create();
        self.user("agent@acme.test", "Alan Agent")
            .in_team(support)
            .create();
        self.user("collab@acme.test", "Cora Collaborator")
            .collaborator()
            .in_team(support)
            .create();
        support
    }

    pub fn user<'a>(&'a self, email: &str, name: &str) -> UserBuilder<'a> {
        UserBuilder {
            app: self,
            email: email.to_string(),
            name: name.to_string(),
            user_type: UserType::FullTime,
            role: Some(BuiltinRole::Agent),
            access: ConversationAccess::All,
            teams: Vec::new(),
            language: None,
            window: None,
        }
    }

    pub fn team(&self, name: &str) -> i64 {
        Team::create(
            &mut self.conn(),
            &NewTeam {
                name,
                created_at: self.clock.now(),
            },
        )
        .expect("team")
    }

    /// Signs in through the real form and returns the signed-in client.
    pub fn sign_in(&self, email: &str) -> Client {
        let mut client = self.client();
        let response = client.post_form("/login", &[("email", email), ("password", PASSWORD)]);
        response.expect_redirect("/");
        client
    }

    /// One round of the background jobs (outbox delivery, seasonal windows),
    /// sending mail to the SMTP server on `smtp_port` (or to files).
    pub fn run_jobs(&self, smtp_port: Option<u16>) -> confer::jobs::Round {
        let mut config = (*self.state.config).clone();
        config.smtp_url = smtp_port.map(|p| format!("smtp://127.0.0.1:{p}"));
        let state = self.state.clone();
        actix_web::rt::System::new().block_on(async move {
            let mailer = confer::mail::Mailer::from_config(&config).expect("mailer");
            confer::jobs::run_once(&state, &mailer).await.expect("jobs")
        })
    }

    /// How many rows, e.g. `count("users WHERE active")`.
    pub fn count(&self, from_where: &str) -> i64 {
        self.number(&format!("SELECT COUNT(*) FROM {from_where}"))
    }

    /// The number a query selects, e.g. `number("SELECT MAX(id) FROM users")`.
    pub fn number(&self, select: &str) -> i64 {
        #[derive(QueryableByName)]
        struct Number {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query(format!("SELECT CAST(({select}) AS BIGINT) AS n"))
            .get_result::<Number>(&mut self.conn())
            .expect("number")
            .n
    }

    pub fn user_id(&self, email: &str) -> i64 {
        User::find_by_email(&mut self.conn(), email)
            .expect("query")
            .unwrap_or_else(|| panic!("no user {email}"))
            .id
    }

    pub fn role_id(&self, role: BuiltinRole) -> i64 {
        Role::id_of(&mut self.conn(), role).expect("role")
    }

    pub fn customer(&self, name: &str, email: &str) -> i64 {
        confer::models::directory::create_customer(
            &mut self.conn(),
            &confer::models::directory::NewCustomer {
                name,
                email: Some(email),
                phone: None,
                organization_id: None,
                created_at: self.clock.now(),
            },
        )
        .expect("customer")
    }

    /// Carl, with an email and a phone number.
    pub fn customer_with_phone(&self) -> i64 {
        let id = self.customer("Carl Customer", "carl@customer.test");
        self.sql(&format!(
            "UPDATE customers SET phone = '+49 555 1234567' WHERE id = {id}"
        ));
        id
    }

    pub fn conversation(
        &self,
        subject: &str,
        customer: i64,
        team: Option<i64>,
        assignee: Option<i64>,
        status: &str,
    ) -> i64 {
        let now = self.clock.now();
        confer::models::directory::create_conversation(
            &mut self.conn(),
            &confer::models::directory::NewConversation {
                subject,
                customer_id: customer,
                status: confer::models::conversation::Status::parse(status).expect("a status"),
                snoozed_until: None,
                priority: confer::models::conversation::Priority::Normal,
                assignee_id: assignee,
                team_id: team,
                channel: confer::models::conversation::Channel::Email,
                created_at: now,
                updated_at: now,
                last_activity_at: now,
                closed_at: None,
            },
        )
        .expect("conversation")
    }

    /// A personal access token for this user.
    pub fn api_token(&self, email: &str) -> String {
        confer::models::api_token::create(
            &mut self.conn(),
            self.user_id(email),
            "test",
            self.clock.now(),
        )
        .expect("token")
        .1
    }

    /// Turns inbound mail on with a known token and returns it.
    pub fn inbound_token(&self) -> String {
        let token = "test-inbound-token-0123456789";
        confer::models::org::OrgSettings::set_inbound_token(
            &mut self.conn(),
            Some(&confer::handlers::inbound_token_hash(token)),
            self.clock.now(),
        )
        .expect("set inbound token");
        token.to_string()
    }

    /// The id of the newest message of a conversation.
    pub fn newest_message(&self, conversation: i64) -> i64 {
        let mut conn = self.conn();
        confer::models::presence::newest_message(&mut conn, conversation).expect("newest message")
    }

    pub fn sql(&self, statement: &str) {
        self.conn().batch_execute(statement).expect("sql");
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(handle) = self.server.take()
            && let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
        {
            rt.block_on(handle.stop(false));
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        match &self.cleanup {
            Cleanup::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::PostgresDb(name) => {
                if let Ok(mut admin) = PgConnection::establish(&pg_admin_url()) {
                    let _ = admin
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                }
            }
        }
    }
}

pub struct UserBuilder<'a> {
    app: &'a TestApp,
    email: String,
    name: String,
    user_type: UserType,
    role: Option<BuiltinRole>,
    access: ConversationAccess,
    teams: Vec<i64>,
    language: Option<&'static str>,
    window: Option<(chrono::NaiveDate, chrono::NaiveDate)>,
}

impl UserBuilder<'_> {
    pub fn role(mut self, role: BuiltinRole) -> Self {
        self.role = Some(role);
        self
    }

    pub fn collaborator(mut self) -> Self {
        self.user_type = UserType::Collaborator;
        self.role = None;
        self
    }

    pub fn seasonal(mut self, starts: chrono::NaiveDate, ends: chrono::NaiveDate) -> Self {
        self.user_type = UserType::Seasonal;
        self.window = Some((starts, ends));
        self
    }

    pub fn teams_only(mut self) -> Self {
        self.access = ConversationAccess::Teams;
        self
    }

    pub fn in_team(mut self, team: i64) -> Self {
        self.teams.push(team);
        self
    }

    pub fn language(mut self, code: &'static str) -> Self {
        self.language = Some(code);
        self
    }

    pub fn create(self) -> i64 {
        let mut conn = self.app.conn();
        let conn: &mut DbConn = &mut conn;
        let now = self.app.clock.now();
        let role_id = self.role.map(|r| Role::id_of(conn, r).expect("role"));
        let hash = bcrypt::hash(PASSWORD, 4).expect("hash");
        let id = User::create(
            conn,
            &NewUser {
                name: &self.name,
                email: &self.email,
                password_hash: Some(&hash),
                user_type: self.user_type.key(),
                role_id,
                language: self.language,
                timezone: None,
                conversation_access: self.access.key(),
                active: true,
                access_starts: self.window.map(|w| w.0),
                access_ends: self.window.map(|w| w.1),
                session_version: 1,
                created_at: now,
                updated_at: now,
            },
        )
        .expect("user");
        for team in self.teams {
            Team::add_member(conn, team, id).expect("membership");
        }
        id
    }
}

/// A cookie-keeping HTTP client that does not follow redirects.
pub struct Client {
    base: String,
    agent: ureq::Agent,
    cookie: Option<String>,
    /// The remembered-device cookie of two-factor sign-in, when set.
    pub device_cookie: Option<String>,
    pub accept_language: Option<String>,
    /// Sent with every request (e.g. `X-Forwarded-For`).
    pub headers: Vec<(String, String)>,
}

#[must_use = "assert on what the server answered"]
pub struct Response {
    pub status: u16,
    pub location: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    /// Asserts a 303 to `path` (with any query after it; `*` stands for one
    /// segment, e.g. an id): a redirect to the sign-in page is also a 303,
    /// so the status alone proves nothing.
    /// Asserts a 303 to exactly this location, query included.
    pub fn expect_location(&self, location: &str) -> &Self {
        assert_eq!(
            (self.status, self.location.as_deref()),
            (303, Some(location)),
            "{}",
            self.body
        );
        self
    }

    pub fn expect_redirect(&self, path: &str) -> &Self {
        let location = self.location.as_deref().unwrap_or_default();
        let target = location.split('?').next().unwrap_or_default();
        let (want, got): (Vec<&str>, Vec<&str>) =
            (path.split('/').collect(), target.split('/').collect());
        let matches =
            want.len() == got.len() && want.iter().zip(&got).all(|(w, g)| *w == "*" || w == g);
        assert!(
            self.status == 303 && matches,
            "expected a redirect to {path}, got {} to {location:?}: {}",
            self.status,
            self.body
        );
        self
    }

    /// Asserts a step went through: a 2xx, or a 303 anywhere but the sign-in
    /// page. For steps that set up what a test then checks.
    pub fn expect_done(&self) -> &Self {
        let location = self.location.as_deref().unwrap_or_default();
        assert!(
            (200..300).contains(&self.status)
                || (self.status == 303 && !location.starts_with("/login")),
            "the step failed: {} {location:?}: {}",
            self.status,
            self.body
        );
        self
    }

    /// Asserts this status (for steps meant to be refused).
    pub fn expect_status(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "{}", self.body);
        self
    }

    /// The body as JSON (panics with the body when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The value of the first hidden `csrf_token` input on the page.
    pub fn csrf_token(&self) -> Option<String> {
        let marker = "name=\"csrf_token\" value=\"";
        let start = self.body.find(marker)? + marker.len();
        let end = self.body[start..].find('"')? + start;
        Some(self.body[start..end].to_string())
    }
}

impl Client {
    pub fn new(base: &str) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .max_redirects(0)
            .max_redirects_will_error(false)
            .http_status_as_error(false)
            .build()
            .into();
        Self {
            base: base.to_string(),
            agent,
            cookie: None,
            device_cookie: None,
            accept_language: None,
            headers: Vec::new(),
        }
    }

    fn finish(
        &mut self,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Response {
        let mut response = result.expect("HTTP request");
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect();
        for (name, value) in &headers {
            if name.eq_ignore_ascii_case("set-cookie") {
                let pair = value.split(';').next().unwrap_or_default();
                match pair.split_once('=') {
                    Some(("confer_session", v)) => {
                        self.cookie = (!v.is_empty()).then(|| pair.to_string());
                    }
                    Some(("confer_device", v)) => {
                        self.device_cookie = (!v.is_empty()).then(|| pair.to_string());
                    }
                    _ => {}
                }
            }
        }
        Response {
            status: response.status().as_u16(),
            location: response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            // Lossy: a download may be binary.
            body: String::from_utf8_lossy(&response.body_mut().read_to_vec().unwrap_or_default())
                .into_owned(),
            headers,
        }
    }

    pub fn get(&mut self, path: &str) -> Response {
        let mut request = self.agent.get(format!("{}{path}", self.base));
        if let Some(cookie) = self.cookies() {
            request = request.header("Cookie", cookie);
        }
        if let Some(lang) = &self.accept_language {
            request = request.header("Accept-Language", lang);
        }
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let result = request.call();
        self.finish(result)
    }

    /// The status of a GET, without reading the body (for event streams,
    /// which stay open).
    pub fn status_only(&mut self, path: &str) -> u16 {
        let mut request = self.agent.get(format!("{}{path}", self.base));
        if let Some(cookie) = self.cookies() {
            request = request.header("Cookie", cookie);
        }
        request.call().expect("HTTP request").status().as_u16()
    }

    /// Posts a form with the CSRF token of the session (fetched from
    /// `/login`'s or the current page's form when needed).
    pub fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Response {
        let token = self.csrf();
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all)
    }

    /// Posts a multipart form with one file field, the CSRF token first in
    /// the body as the page's form sends it.
    pub fn post_file(
        &mut self,
        path: &str,
        field: &str,
        filename: &str,
        content: &[u8],
    ) -> Response {
        self.post_multipart(path, &[], &[(field, filename, content)])
    }

    /// Posts a multipart form: text fields and (name, file name, bytes)
    /// files, the CSRF token as the first part, as the composer forms do.
    pub fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
    ) -> Response {
        let token = self.csrf();
        let mut all = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.post_multipart_raw(path, &all, files)
    }

    /// Posts exactly these multipart parts (no CSRF token added).
    pub fn post_multipart_raw(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
    ) -> Response {
        let boundary = "----conferTestBoundary7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                )
                .as_bytes(),
            );
        }
        for (name, filename, content) in files {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(content);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let mut request = self.agent.post(format!("{}{path}", self.base)).header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        );
        if let Some(cookie) = self.cookies() {
            request = request.header("Cookie", cookie);
        }
        let result = request.send(&body[..]);
        self.finish(result)
    }

    /// Posts a raw email to `/inbound/email` with a bearer token.
    pub fn post_mail(&mut self, token: &str, raw: &[u8]) -> Response {
        let request = self
            .agent
            .post(format!("{}/inbound/email", self.base))
            .header("Authorization", format!("Bearer {token}"))
            .header("Content-Type", "message/rfc822");
        let result = request.send(raw);
        self.finish(result)
    }

    /// A JSON API request with a bearer token (no cookie), any method.
    pub fn api(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&serde_json::Value>,
        headers: &[(&str, &str)],
    ) -> Response {
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        if body.is_some() {
            request = request.header("Content-Type", "application/json");
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let result = self.agent.run(request.body(bytes).expect("request"));
        self.finish(result)
    }

    /// Posts exactly these fields (no CSRF token added).
    pub fn post_raw(&mut self, path: &str, fields: &[(&str, &str)]) -> Response {
        let mut request = self.agent.post(format!("{}{path}", self.base));
        if let Some(cookie) = self.cookies() {
            request = request.header("Cookie", cookie);
        }
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let result = request.send_form(fields.iter().copied());
        self.finish(result)
    }

    /// The session's CSRF token, read from a page that shows a form.
    pub fn csrf(&mut self) -> String {
        for path in ["/profile", "/login", "/setup"] {
            let page = self.get(path);
            if page.status == 200
                && let Some(token) = page.csrf_token()
            {
                return token;
            }
        }
        panic!("no page with a CSRF token");
    }

    /// The `Cookie` header: the session and the remembered device.
    fn cookies(&self) -> Option<String> {
        match (&self.cookie, &self.device_cookie) {
            (Some(session), Some(device)) => Some(format!("{session}; {device}")),
            (session, device) => session.clone().or_else(|| device.clone()),
        }
    }

    /// The session cookie as a `Cookie` header value (for raw requests).
    pub fn cookie_header(&self) -> String {
        self.cookie.clone().unwrap_or_default()
    }

    pub fn is_signed_in(&mut self) -> bool {
        self.get("/").status == 200
    }
}

/// Every (method, path) the browser's router registers, from its own table
/// (`handlers::ROUTES`), so a new route cannot be left out of the route ×
/// role matrices.
pub fn registered_routes() -> Vec<(String, String)> {
    confer::handlers::ROUTES
        .iter()
        .map(|(method, path)| (method.to_uppercase(), path.to_string()))
        .collect()
}

/// The conversation ids a page's table links to, in order.
pub fn conversation_ids(body: &str) -> Vec<i64> {
    let table = body.split("<tbody>").nth(1).unwrap_or_default();
    let table = table.split("</tbody>").next().unwrap_or_default();
    table
        .split("href=\"/conversations/")
        .skip(1)
        .filter_map(|s| s.split('"').next()?.parse().ok())
        .collect()
}
