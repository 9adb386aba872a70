//! Measures the CSV user import: preview (plan) and confirm (plan + apply
//! in one transaction) of 5,000 new users, then the same file again (all
//! unchanged). Run: `cargo run --release --example bench_import`
//! (PostgreSQL too when `CONFER_BENCH_PG_URL` names an empty database).

use std::time::Instant;

use confer::config::Config;
use confer::db::{DatabaseUrl, write_transaction};
use confer::i18n::{Lang, Tr};
use confer::models::audit::AuditActor;
use confer::models::org::{NewOrgSettings, ORG_ID, OrgSettings};
use confer::policy::{Actor, BuiltinRole, ConversationAccess, RoleGrant, UserType};

const ROWS: usize = 5_000;

fn csv() -> String {
    let mut out =
        String::from("name,email,type,role,teams,language,timezone,conversation_access\n");
    for n in 0..ROWS {
        let (kind, role) = if n % 10 == 0 {
            ("collaborator", "")
        } else {
            ("full_time", "agent")
        };
        out.push_str(&format!(
            "Person {n},person{n}@bench.test,{kind},{role},Support;Billing,en,Europe/Berlin,teams\n"
        ));
    }
    out
}

fn run(url: DatabaseUrl) -> Result<(), String> {
    let label = if url.is_postgres() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let data_dir = std::env::temp_dir().join(format!("confer-bench-{}", std::process::id()));
    let config = Config::from_lookup(|name| match name {
        "CONFER_DATA_DIR" => Some(data_dir.to_string_lossy().into_owned()),
        "CONFER_SECRET_KEY" => Some("bench-secret-key-0123456789abcdef0123".into()),
        _ => None,
    })
    .map_err(|e| e.0)?;
    let config = Config {
        database_url: url,
        ..config
    };
    let pool = confer::cli::prepare(&config)?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let now = chrono::Utc::now().naive_utc();
    if OrgSettings::find(&mut conn)
        .map_err(|e| e.to_string())?
        .is_none()
    {
        OrgSettings::create(
            &mut conn,
            &NewOrgSettings {
                id: ORG_ID,
                name: "Bench",
                default_language: "en",
                timezone: "UTC",
                created_at: now,
                updated_at: now,
            },
        )
        .map_err(|e| e.to_string())?;
        for team in ["Support", "Billing"] {
            confer::models::team::Team::create(
                &mut conn,
                &confer::models::team::NewTeam {
                    name: team,
                    created_at: now,
                },
            )
            .map_err(|e| e.to_string())?;
        }
    }
    let org = OrgSettings::find(&mut conn)
        .map_err(|e| e.to_string())?
        .ok_or("no org")?;
    let actor = Actor {
        user_id: 0,
        user_type: UserType::FullTime,
        role: Some(RoleGrant::builtin(BuiltinRole::Admin)),
        conversation_access: ConversationAccess::All,
        team_ids: vec![],
        granted: Default::default(),
    };
    let t = Tr::new(Lang::En);
    let file = csv();
    let rows = confer::import::parse(file.as_bytes(), t)?;
    for round in ["first import", "same file again"] {
        let started = Instant::now();
        let plans = confer::import::plan(&mut conn, &actor, &org, &rows, t, now)
            .map_err(|e| e.to_string())?;
        let preview = started.elapsed();
        let started = Instant::now();
        let (added, updated) = write_transaction(&mut conn, |conn| {
            let plans = confer::import::plan(conn, &actor, &org, &rows, t, now)?;
            let audit = AuditActor::system();
            let by = confer::services::By {
                actor: &actor,
                audit: &audit,
            };
            confer::import::apply(conn, &by, &org, &plans, "http://bench", now)
                .map_err(confer::error::AppError::from)
        })
        .map_err(|e| e.to_string())?;
        println!(
            "{label}: {round}: preview of {} rows {:.2} s; confirm {:.2} s ({added} added, {updated} updated); {}",
            plans.len(),
            preview.as_secs_f64(),
            started.elapsed().as_secs_f64(),
            if round == "first import" {
                "invitations queued"
            } else {
                "nothing changed"
            },
        );
    }
    let _ = std::fs::remove_dir_all(data_dir);
    Ok(())
}

fn main() {
    let dir = std::env::temp_dir().join(format!("confer-bench-db-{}", std::process::id()));
    let sqlite = DatabaseUrl::Sqlite(dir.join("bench.db"));
    if let Err(e) = run(sqlite) {
        eprintln!("SQLite: {e}");
        std::process::exit(1);
    }
    let _ = std::fs::remove_dir_all(&dir);
    if let Ok(url) = std::env::var("CONFER_BENCH_PG_URL") {
        if let Err(e) = run(DatabaseUrl::Postgres(url)) {
            eprintln!("PostgreSQL: {e}");
            std::process::exit(1);
        }
    } else {
        println!("PostgreSQL: skipped (set CONFER_BENCH_PG_URL to an empty database)");
    }
}
