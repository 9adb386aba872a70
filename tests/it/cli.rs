//! The demo workspace and the `confer` binary's own commands.

use confer::models::user::User;

use crate::db_test;
use crate::support::*;

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(app: &TestApp, table: &str) -> i64 {
    use diesel::RunQueryDsl;
    diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
        .get_result::<Count>(&mut app.conn())
        .expect("count")
        .n
}

db_test!(demo_fills_an_empty_database_once, |app| {
    let config = app.state.config.as_ref().clone();
    let summary = confer::services::demo::fill(&mut app.conn(), &config).expect("demo");
    assert!(summary.contains("collaborator@northwind.example"));
    assert_eq!(count(&app, "teams"), 3);
    assert_eq!(count(&app, "users"), 8);
    assert_eq!(count(&app, "users WHERE user_type = 'collaborator'"), 2);
    assert_eq!(count(&app, "organizations"), 3);
    assert_eq!(count(&app, "customers"), 8);
    assert_eq!(count(&app, "conversations"), 10);
    assert_eq!(count(&app, "kb_articles WHERE state = 'published'"), 3);
    assert_eq!(count(&app, "kb_articles WHERE state = 'draft'"), 1);
    assert_eq!(count(&app, "tasks"), 2);
    assert!(count(&app, "messages WHERE kind = 'reply'") >= 5);
    assert!(count(&app, "messages WHERE kind = 'note'") >= 5);
    assert!(User::owner_exists(&mut app.conn()).expect("q"));

    let again =
        confer::services::demo::fill(&mut app.conn(), &config).expect_err("second run refused");
    assert!(again.contains("already has users"));
    assert_eq!(count(&app, "users"), 8, "nothing added the second time");

    // The collaborator with team-only access sees the Technical team's
    // conversations only, counted in SQL by their scope.
    let mut collaborator = app.client();
    let response = collaborator.post_form(
        "/login",
        &[
            ("email", "collaborator@northwind.example"),
            ("password", confer::services::demo::DEMO_PASSWORD),
        ],
    );
    response.expect_redirect("/");
    let home = collaborator.get("/").body;
    assert!(home.contains("layout-collaborator"));
    assert!(home.contains(">Open</a></dt><dd>3</dd>"), "{home}");
});

// The real binary: `confer migrate` and `confer create-owner` against the
// test's database, and clear errors for bad configuration.
db_test!(binary_migrates_and_creates_the_owner, |app| {
    let dir = std::env::temp_dir().join(format!("confer-bin-{}", rand::random::<u32>()));
    let database_url = match &app.state.config.database_url {
        confer::db::DatabaseUrl::Sqlite(path) => path.to_string_lossy().into_owned(),
        confer::db::DatabaseUrl::Postgres(url) => url.clone(),
    };
    let bin = env!("CARGO_BIN_EXE_confer");
    let run = |args: &[&str], extra: &[(&str, &str)]| {
        let mut command = std::process::Command::new(bin);
        command
            .args(args)
            .env("CONFER_DATA_DIR", &dir)
            .env("DATABASE_URL", &database_url)
            .env(
                "CONFER_SECRET_KEY",
                "binary-test-secret-key-0123456789abcdef",
            )
            .env("CONFER_BCRYPT_COST", "4");
        for (k, v) in extra {
            command.env(k, v);
        }
        command.output().expect("run confer")
    };
    let migrate = run(&["migrate"], &[]);
    assert!(
        migrate.status.success(),
        "{:?}\nstdout: {}\nstderr: {}",
        migrate.status,
        String::from_utf8_lossy(&migrate.stdout),
        String::from_utf8_lossy(&migrate.stderr)
    );

    // The same checks as /setup, all at once, and nothing written.
    let bad = run(
        &["create-owner", "--email", "boss-at-acme", "--name", " "],
        &[("CONFER_OWNER_PASSWORD", "a long enough password")],
    );
    assert!(!bad.status.success());
    let said = String::from_utf8_lossy(&bad.stderr);
    assert!(said.contains("--email: is not an email address"), "{said}");
    assert!(said.contains("--name: is required"), "{said}");
    assert_eq!(app.count("users"), 0);

    let owner = run(
        &[
            "create-owner",
            "--email",
            "Boss@Acme.test",
            "--name",
            "Bea Boss",
        ],
        &[("CONFER_OWNER_PASSWORD", "a long enough password")],
    );
    assert!(
        owner.status.success(),
        "{:?}\nstdout: {}\nstderr: {}",
        owner.status,
        String::from_utf8_lossy(&owner.stdout),
        String::from_utf8_lossy(&owner.stderr)
    );
    let stored = User::find_by_email(&mut app.conn(), "boss@acme.test")
        .expect("q")
        .expect("owner");
    assert_eq!(stored.name, "Bea Boss");
    let mut client = app.client();
    let login = client.post_form(
        "/login",
        &[
            ("email", "boss@acme.test"),
            ("password", "a long enough password"),
        ],
    );
    login.expect_redirect("/");

    // The break-glass for a lost second factor.
    crate::identity::set_up(&app, &mut client);
    assert_eq!(app.count("users WHERE two_factor_since IS NOT NULL"), 1);
    let reset = run(&["reset-two-factor", "BOSS@acme.test"], &[]);
    assert!(
        reset.status.success(),
        "{:?}\nstdout: {}\nstderr: {}",
        reset.status,
        String::from_utf8_lossy(&reset.stdout),
        String::from_utf8_lossy(&reset.stderr)
    );
    assert!(
        String::from_utf8_lossy(&reset.stdout).contains("two-factor sign-in reset for Bea Boss")
    );
    assert_eq!(app.count("users WHERE two_factor_since IS NOT NULL"), 0);
    assert_eq!(app.count("recovery_codes"), 0);
    assert_eq!(
        app.count("audit_log WHERE action = 'user.two_factor_reset' AND actor_id IS NULL"),
        1
    );
    client.get("/conversations").expect_redirect("/login");
    let unknown = run(&["reset-two-factor", "nobody@acme.test"], &[]);
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr)
            .contains("no user has the email address nobody@acme.test")
    );

    let second = run(
        &[
            "create-owner",
            "--email",
            "other@acme.test",
            "--name",
            "Other",
        ],
        &[("CONFER_OWNER_PASSWORD", "a long enough password")],
    );
    assert!(!second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("an owner already exists"));

    std::fs::create_dir_all(&dir).expect("dir");
    let copy = dir.join("backup.db");
    let backup = run(&["backup", &copy.to_string_lossy()], &[]);
    match app.backend {
        Backend::Sqlite => {
            assert!(
                backup.status.success(),
                "{}",
                String::from_utf8_lossy(&backup.stderr)
            );
            let url = confer::db::DatabaseUrl::Sqlite(copy.clone());
            let pool = confer::db::connect(&url).expect("open the copy");
            let owner =
                User::find_by_email(&mut pool.get().expect("conn"), "boss@acme.test").expect("q");
            assert!(owner.is_some(), "the copy holds the data");
        }
        Backend::Postgres => {
            assert!(!backup.status.success());
            assert!(String::from_utf8_lossy(&backup.stderr).contains("pg_dump"));
        }
    }

    let bad = run(&["migrate"], &[("CONFER_BIND", "nowhere")]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("CONFER_BIND"));
    let _ = std::fs::remove_dir_all(dir);
});

// Every migration goes down and up again cleanly on both backends.
db_test!(migrations_run_down_and_up_again, |app| {
    let mut conn = app.conn();
    let reverted = confer::db::revert_all(&mut conn).expect("down");
    assert!(reverted >= 8, "{reverted} migrations reverted");
    assert_eq!(confer::db::migrate(&mut conn).expect("up"), reverted);
    drop(conn);
    assert_eq!(app.count("roles"), 0, "a fresh schema");
});

/// One HTTP/1.1 response read off a kept-alive connection: (head, body).
fn read_response(reader: &mut std::io::BufReader<std::net::TcpStream>) -> Option<(String, String)> {
    use std::io::{BufRead, Read};
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((head, String::from_utf8_lossy(&body).into_owned()))
}

// Issue 14: requests that reach kept-alive connections as SIGTERM arrives
// are answered (with `Connection: close`), never dropped.
db_test!(sigterm_answers_requests_on_kept_alive_connections, |app| {
    use std::io::Write;
    let app = app.with_org();
    let dir = std::env::temp_dir().join(format!("confer-stop-{}", rand::random::<u32>()));
    let database_url = match &app.state.config.database_url {
        confer::db::DatabaseUrl::Sqlite(path) => path.to_string_lossy().into_owned(),
        confer::db::DatabaseUrl::Postgres(url) => url.clone(),
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_confer"))
        .arg("serve")
        .env("CONFER_DATA_DIR", &dir)
        .env("DATABASE_URL", &database_url)
        .env(
            "CONFER_SECRET_KEY",
            "binary-test-secret-key-0123456789abcdef",
        )
        .env("CONFER_BIND", format!("127.0.0.1:{port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start confer serve");
    let address = format!("127.0.0.1:{port}");
    let request = b"GET /healthz HTTP/1.1\r\nHost: confer.test\r\n\r\n";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let connect = || loop {
        if let Ok(stream) = std::net::TcpStream::connect(&address) {
            stream
                .set_read_timeout(Some(std::time::Duration::from_secs(20)))
                .unwrap();
            return stream;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let mut connections: Vec<_> = (0..16)
        .map(|_| {
            let mut stream = connect();
            stream.write_all(request).unwrap();
            let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
            let (head, _) = read_response(&mut reader).expect("first answer");
            assert!(head.starts_with("HTTP/1.1 200"), "{head}");
            (stream, reader)
        })
        .collect();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    for (stream, _) in &mut connections {
        stream.write_all(request).unwrap();
    }
    let mut answered = 0;
    for (_, reader) in &mut connections {
        if let Some((head, _)) = read_response(reader)
            && head.starts_with("HTTP/1.1 200")
        {
            answered += 1;
        }
    }
    assert_eq!(
        answered, 16,
        "every request sent as SIGTERM arrived was answered"
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    let mut late = connect();
    late.write_all(request).unwrap();
    let (head, _) =
        read_response(&mut std::io::BufReader::new(late)).expect("answer while draining");
    assert!(
        head.to_ascii_lowercase().contains("connection: close"),
        "while draining, answers close their connection: {head}"
    );
    let status = server.wait().expect("server exit");
    assert!(status.success(), "a clean exit: {status:?}");
    let _ = std::fs::remove_dir_all(dir);
});
