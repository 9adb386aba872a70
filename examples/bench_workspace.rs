//! Load benchmark of the workspace on a large data set: 100,000
//! conversations with 500,000 messages (notes included), then the inbox
//! page, a conversation page with 30 messages, a full-text search and the
//! reports page (30 days and a year), each
//! requested 200 times over loopback HTTP; prints median and p90.
//!
//! `cargo run --release --example bench_workspace` (SQLite), and with
//! `CONFER_BENCH_PG_URL=postgres://127.0.0.1/confer_bench` (an empty
//! database) for PostgreSQL too. `CONFER_BENCH_CONVERSATIONS` changes N.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use actix_web::{HttpServer, web};
use chrono::Utc;
use confer::app::build_app;
use confer::db::DatabaseUrl;
use confer::state::{AppState, Clock};

mod common;

fn median_p90(mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (
        ms(samples[samples.len() / 2]),
        ms(samples[samples.len() * 9 / 10]),
    )
}

fn run(url: DatabaseUrl, n: usize) -> Result<(), String> {
    let label = if url.is_postgres() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let data_dir = std::env::temp_dir().join(format!("confer-bench-ws-{}", std::process::id()));
    let (config, pool) = common::prepare(url, &data_dir)?;
    let started = Instant::now();
    common::seed_and_analyze(&pool, n, false)?;
    println!(
        "{label}: seeded {n} conversations, {} messages in {:.0} s",
        n * 5 + 25,
        started.elapsed().as_secs_f64()
    );

    // The owner's token for the API measurements.
    let api_token = common::api_token(&mut *pool.get().map_err(|e| e.to_string())?)?;
    let state = web::Data::new(AppState::new(pool, config, Clock::default()));
    state.api_limiter.set_limit(u32::MAX);
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let server_state = state.clone();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            if let Ok(server) = HttpServer::new(move || build_app(server_state.clone()))
                .workers(2)
                .listen(listener)
            {
                let _ = server.run().await;
            }
        })
    });
    std::thread::sleep(Duration::from_millis(300));
    let base = format!("http://127.0.0.1:{port}");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .max_redirects_will_error(false)
        .http_status_as_error(false)
        .build()
        .into();
    let cookie = common::sign_in(&base)?;
    for (name, path) in [
        (
            "inbox (All, first page of 50)",
            "/conversations?view=all".to_string(),
        ),
        (
            "conversation with 30 messages",
            "/conversations/1".to_string(),
        ),
        ("search for one word", "/search?q=ultramarine".to_string()),
        (
            "API: conversations, first page of 50",
            "/api/v1/conversations?view=all&limit=50".to_string(),
        ),
        (
            "API: a conversation's 30 messages",
            "/api/v1/conversations/1/messages".to_string(),
        ),
        (
            "API: search for one word",
            "/api/v1/search?q=ultramarine".to_string(),
        ),
        ("reports, last 30 days", "/reports".to_string()),
        (
            "reports, a whole year",
            format!(
                "/reports?from={}&to={}",
                (Utc::now() - chrono::Duration::days(365)).format("%Y-%m-%d"),
                Utc::now().format("%Y-%m-%d")
            ),
        ),
    ] {
        let mut samples = Vec::new();
        // Reports are heavier: fewer rounds.
        let (warmup, rounds) = if path.starts_with("/reports") {
            (5, 45)
        } else {
            (20, 220)
        };
        for round in 0..rounds {
            let t = Instant::now();
            let mut response = agent
                .get(format!("{base}{path}"))
                .header("Cookie", &cookie)
                .header("Authorization", format!("Bearer {api_token}"))
                .call()
                .map_err(|e| e.to_string())?;
            let _ = response.body_mut().read_to_string();
            if response.status() != 200 {
                return Err(format!("{path} answered {}", response.status()));
            }
            if round >= warmup {
                samples.push(t.elapsed());
            }
        }
        let (median, p90) = median_p90(samples);
        println!("{label}: {name}: median {median:.1} ms, p90 {p90:.1} ms");
    }
    let _ = std::fs::remove_dir_all(data_dir);
    Ok(())
}

fn main() {
    let n: usize = std::env::var("CONFER_BENCH_CONVERSATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = std::env::temp_dir().join(format!("confer-bench-ws-db-{}", std::process::id()));
    if let Err(e) = run(DatabaseUrl::Sqlite(dir.join("bench.db")), n) {
        eprintln!("SQLite: {e}");
        std::process::exit(1);
    }
    let _ = std::fs::remove_dir_all(&dir);
    match std::env::var("CONFER_BENCH_PG_URL") {
        Ok(url) => {
            if let Err(e) = run(DatabaseUrl::Postgres(url), n) {
                eprintln!("PostgreSQL: {e}");
                std::process::exit(1);
            }
        }
        Err(_) => println!("PostgreSQL: skipped (set CONFER_BENCH_PG_URL to an empty database)"),
    }
}
