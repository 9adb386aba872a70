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
    let summary = confer::demo::fill(&mut app.conn(), &config).expect("demo");
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

    let again = confer::demo::fill(&mut app.conn(), &config).expect_err("second run refused");
    assert!(again.contains("already has users"));
    assert_eq!(count(&app, "users"), 8, "nothing added the second time");

    // The collaborator with team-only access sees the Technical team's
    // conversations only, counted in SQL by their scope.
    let mut collaborator = app.client();
    let response = collaborator.post_form(
        "/login",
        &[
            ("email", "collaborator@northwind.example"),
            ("password", confer::demo::DEMO_PASSWORD),
        ],
    );
    assert_eq!(response.status, 303);
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
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );

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
    assert_eq!(login.status, 303, "the owner can sign in");

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
