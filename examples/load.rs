//! Load benchmark under concurrency: many keep-alive connections hammer one
//! page at a time for a while, on a large workspace, beside a bare
//! actix-web + askama + diesel/r2d2 page (one conversation and 20 of its
//! messages) served by the same server process: requests/s, p50 and p99 per
//! page, and the server's peak memory.
//!
//! `cargo run --release --example load` (SQLite); with
//! `CONFER_BENCH_PG_URL=postgres://127.0.0.1/confer_load` (an empty
//! database) for PostgreSQL too. `CONFER_LOAD_CONVERSATIONS` (100000),
//! `CONFER_LOAD_CONNECTIONS` (32) and `CONFER_LOAD_SECONDS` (15) change the
//! size, the connections and the time per page. The workspace is seeded in
//! this process, with planner statistics (`ANALYZE`) as a long-running node
//! would have, then served by a child (`load serve`) so that its memory is
//! the server's alone; wrk (2 threads) drives it where installed, else a
//! built-in client.
//!
//! `load serve DIR [PG_URL]` seeds a workspace (SQLite in DIR, or the
//! PostgreSQL database) unless it holds one already, serves it and the bare
//! page, writes `DIR/ready` (the two base URLs, the session cookie and an
//! API token, a line each) and waits: `examples/callgrind.sh` runs it under
//! callgrind to count instructions per request.

mod common;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{HttpResponse, HttpServer, web};
use askama::Template;
use confer::app::build_app;
use confer::db::schema::{conversations, messages};
use confer::db::{DatabaseUrl, Pool};
use confer::state::{AppState, Clock};
use diesel::prelude::*;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Template)]
#[template(
    source = "<!doctype html><title>{{ subject }}</title><h1>{{ subject }}</h1>\
              <ol>{% for (kind, body) in messages %}<li class=\"{{ kind }}\">{{ body }}</li>{% endfor %}</ol>",
    ext = "html"
)]
struct BarePage {
    subject: String,
    messages: Vec<(String, String)>,
}

/// The yardstick: the least a page of this stack can do.
async fn bare_page(pool: web::Data<Pool>) -> HttpResponse {
    let page = web::block(move || -> Result<String, String> {
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        let subject: String = conversations::table
            .find(1)
            .select(conversations::subject)
            .first(&mut *conn)
            .map_err(|e| e.to_string())?;
        let messages: Vec<(String, String)> = messages::table
            .filter(messages::conversation_id.eq(1))
            .order(messages::id)
            .limit(20)
            .select((messages::kind, messages::body))
            .load(&mut *conn)
            .map_err(|e| e.to_string())?;
        BarePage { subject, messages }
            .render()
            .map_err(|e| e.to_string())
    })
    .await;
    match page {
        Ok(Ok(html)) => HttpResponse::Ok().content_type("text/html").body(html),
        _ => HttpResponse::InternalServerError().finish(),
    }
}

/// Serves an app factory on a loopback port in its own thread (two
/// workers, as on this machine's two cores); the base URL.
macro_rules! serve {
    ($factory:expr) => {{
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let factory = $factory;
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                if let Ok(server) = HttpServer::new(factory)
                    .workers(2)
                    .worker_max_blocking_threads(confer::app::BLOCKING_THREADS_PER_WORKER)
                    .disable_signals()
                    .listen(listener)
                {
                    let _ = server.run().await;
                }
            })
        });
        std::thread::sleep(Duration::from_millis(300));
        format!("http://127.0.0.1:{port}")
    }};
}

struct Figures {
    per_second: f64,
    p50: f64,
    p99: f64,
    /// Requests that took longer than the client's timeout (2 s).
    timeouts: u64,
}

/// `connections` threads, each with one keep-alive connection, request
/// `url` for `seconds`; every answer must be a 200.
fn load(
    url: &str,
    headers: &[(String, String)],
    connections: usize,
    seconds: u64,
) -> Result<Figures, String> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let headers = Arc::new(headers.to_vec());
    let workers: Vec<_> = (0..connections)
        .map(|_| {
            let (url, headers) = (url.to_string(), headers.clone());
            std::thread::spawn(move || -> Result<Vec<Duration>, String> {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .max_redirects(0)
                    .http_status_as_error(false)
                    .build()
                    .into();
                let mut samples = Vec::new();
                while Instant::now() < deadline {
                    let started = Instant::now();
                    let mut request = agent.get(&url);
                    for (name, value) in headers.iter() {
                        request = request.header(name, value);
                    }
                    let mut response = request.call().map_err(|e| e.to_string())?;
                    let _ = response.body_mut().read_to_vec();
                    if response.status() != 200 {
                        return Err(format!("{url} answered {}", response.status()));
                    }
                    samples.push(started.elapsed());
                }
                Ok(samples)
            })
        })
        .collect();
    let mut samples = Vec::new();
    for worker in workers {
        samples.extend(worker.join().map_err(|_| "a client thread panicked")??);
    }
    if samples.is_empty() {
        return Err(format!("{url}: no answers"));
    }
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    Ok(Figures {
        per_second: samples.len() as f64 / seconds as f64,
        p50: ms(samples[samples.len() / 2]),
        p99: ms(samples[samples.len() * 99 / 100]),
        timeouts: 0,
    })
}

/// wrk's figures for one page (2 threads), when wrk is installed.
fn wrk(
    url: &str,
    headers: &[(String, String)],
    connections: usize,
    seconds: u64,
) -> Result<Option<Figures>, String> {
    let mut command = std::process::Command::new("wrk");
    command.args([
        "-t2".to_string(),
        format!("-c{connections}"),
        format!("-d{seconds}s"),
        "--latency".to_string(),
    ]);
    for (name, value) in headers {
        command.args(["-H".to_string(), format!("{name}: {value}")]);
    }
    let output = match command.arg(url).output() {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let text = String::from_utf8_lossy(&output.stdout);
    // wrk's "Socket errors: connect 0, read 0, write 0, timeout N" as
    // (kind, count). An answer other than 200, or a broken connection,
    // fails the run; a request slower than wrk's 2 s timeout is counted.
    let socket_errors: Vec<(&str, u64)> = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Socket errors:"))
        .map(|errors| {
            errors
                .split(',')
                .filter_map(|e| e.trim().split_once(' '))
                .map(|(kind, n)| (kind, n.trim().parse().unwrap_or(u64::MAX)))
                .collect()
        })
        .unwrap_or_default();
    let broken = socket_errors
        .iter()
        .any(|(kind, n)| *kind != "timeout" && *n != 0);
    if !output.status.success() || text.contains("Non-2xx") || broken {
        return Err(format!("{url}: wrk saw errors:\n{text}"));
    }
    let timeouts = socket_errors
        .iter()
        .find_map(|(kind, n)| (*kind == "timeout").then_some(*n))
        .unwrap_or(0);
    let ms = |value: &str| -> Option<f64> {
        let (number, unit) = value.split_at(value.find(|c: char| c.is_alphabetic())?);
        let number: f64 = number.parse().ok()?;
        Some(match unit {
            "us" => number / 1000.0,
            "ms" => number,
            "s" => number * 1000.0,
            _ => return None,
        })
    };
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix))
            .map(|v| v.trim().to_string())
            .ok_or_else(|| format!("{url}: no `{prefix}` in wrk's output:\n{text}"))
    };
    let per_second: f64 = field("Requests/sec:")?
        .parse()
        .map_err(|_| "bad Requests/sec")?;
    let p50 = ms(&field("50%")?).ok_or("bad p50")?;
    let p99 = ms(&field("99%")?).ok_or("bad p99")?;
    Ok(Some(Figures {
        per_second,
        p50,
        p99,
        timeouts,
    }))
}

/// The reports page over the year up to today (the seeded data is its
/// last ten weeks).
fn year_report() -> String {
    let today = chrono::Utc::now().date_naive();
    format!(
        "/reports?from={}&to={today}",
        today - chrono::Duration::days(365)
    )
}

/// Seeds a workspace on `url`, serves it from a child process (`load serve`,
/// so its memory is the server's alone) and drives each page with
/// `connections` connections for `seconds`: wrk where installed, else the
/// built-in client.
fn run(url: DatabaseUrl) -> Result<(), String> {
    let n = env_number("CONFER_LOAD_CONVERSATIONS", 100_000);
    let connections = env_number("CONFER_LOAD_CONNECTIONS", 32);
    let seconds = env_number("CONFER_LOAD_SECONDS", 15) as u64;
    let label = if url.is_postgres() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let data_dir = std::env::temp_dir().join(format!("confer-load-{}", std::process::id()));
    std::fs::create_dir_all(&data_dir).map_err(|e| e.to_string())?;
    let url = match url {
        DatabaseUrl::Sqlite(_) => DatabaseUrl::Sqlite(data_dir.join("load.db")),
        pg => pg,
    };
    let started = Instant::now();
    {
        let (_, pool) = common::prepare(url.clone(), &data_dir)?;
        common::seed_and_analyze(&pool, n, true)?;
    }
    let mut server =
        std::process::Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
    server.arg("serve").arg(&data_dir);
    if let DatabaseUrl::Postgres(pg) = &url {
        server.arg(pg);
    }
    let mut server = server.spawn().map_err(|e| e.to_string())?;
    let ready = data_dir.join("ready");
    while !ready.exists() {
        if let Ok(Some(status)) = server.try_wait() {
            return Err(format!("the server stopped: {status}"));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let lines: Vec<String> = std::fs::read_to_string(&ready)
        .map_err(|e| e.to_string())?
        .lines()
        .map(str::to_string)
        .collect();
    let [bare, base, cookie, token] = &lines[..] else {
        return Err("bad ready file".into());
    };
    let client = if std::process::Command::new("wrk").arg("-v").output().is_ok() {
        "wrk -t2"
    } else {
        "the built-in client"
    };
    println!(
        "{label}: seeded {n} conversations, {} messages in {:.0} s; {connections} connections, {seconds} s per page, {client}",
        n * 5 + 25,
        started.elapsed().as_secs_f64()
    );
    let browser = vec![("Cookie".to_string(), cookie.clone())];
    let api = vec![("Authorization".to_string(), format!("Bearer {token}"))];
    println!("| page | requests/s | p50 | p99 |");
    println!("|---|---|---|---|");
    let pages = [
        (
            "bare actix + askama + diesel page",
            format!("{bare}/"),
            Vec::new(),
        ),
        (
            "conversation with 30 messages",
            format!("{base}/conversations/1"),
            browser.clone(),
        ),
        (
            "inbox, \"All\" with its view counts",
            format!("{base}/conversations?view=all"),
            browser.clone(),
        ),
        (
            "search, one word",
            format!("{base}/search?q=ultramarine"),
            browser.clone(),
        ),
        (
            "API: `GET /api/v1/conversations?view=all&limit=50`",
            format!("{base}/api/v1/conversations?view=all&limit=50"),
            api.clone(),
        ),
        (
            "API: a conversation's 30 messages",
            format!("{base}/api/v1/conversations/1/messages"),
            api.clone(),
        ),
        (
            "reports, a whole year",
            format!("{base}{}", year_report()),
            browser.clone(),
        ),
    ];
    let result = (|| {
        for (name, url, headers) in pages {
            let f = match wrk(&url, &headers, connections, seconds)? {
                Some(f) => f,
                None => load(&url, &headers, connections, seconds)?,
            };
            let slow = match f.timeouts {
                0 => String::new(),
                n => format!(" ({n} over 2 s)"),
            };
            println!(
                "| {label}: {name} | {:.0} | {:.1} ms | {:.1} ms{slow} |",
                f.per_second, f.p50, f.p99
            );
        }
        let status = std::fs::read_to_string(format!("/proc/{}/status", server.id()))
            .map_err(|e| e.to_string())?;
        let peak = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .unwrap_or("?")
            .trim()
            .to_string();
        println!("{label}: server memory at its peak (VmHWM): {peak}");
        Ok::<_, String>(())
    })();
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(data_dir);
    result
}

/// Seeds DIR/load.db (or the PostgreSQL database at PG_URL) unless it holds
/// a workspace already, serves it and the bare page, tells how to reach them
/// in DIR/ready, and waits to be stopped.
fn serve_only(dir: &std::path::Path, pg: Option<String>) -> Result<(), String> {
    let n = env_number("CONFER_LOAD_CONVERSATIONS", 100_000);
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let url = match pg {
        Some(pg) => DatabaseUrl::Postgres(pg),
        None => DatabaseUrl::Sqlite(dir.join("load.db")),
    };
    let (config, pool) = common::prepare(url, dir)?;
    let seeded: i64 = conversations::table
        .count()
        .get_result(&mut *pool.get().map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    if seeded == 0 {
        common::seed_and_analyze(&pool, n, true)?;
    }
    let token = common::api_token(&mut *pool.get().map_err(|e| e.to_string())?)?;
    let bare_pool = web::Data::new(pool.clone());
    let bare = serve!(move || {
        actix_web::App::new()
            .app_data(bare_pool.clone())
            .route("/", web::get().to(bare_page))
    });
    let state = web::Data::new(AppState::new(pool, config, Clock::default()));
    state.api_limiter.set_limit(u32::MAX);
    let app_state = state.clone();
    let base = serve!(move || build_app(app_state.clone()));
    let cookie = common::sign_in(&base)?;
    std::fs::write(
        dir.join("ready"),
        format!("{bare}\n{base}\n{cookie}\n{token}\n"),
    )
    .map_err(|e| e.to_string())?;
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("serve") {
        let dir = args
            .get(2)
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| std::env::temp_dir().join("confer-load-serve"));
        if let Err(e) = serve_only(&dir, args.get(3).cloned()) {
            eprintln!("serve: {e}");
            std::process::exit(1);
        }
        return;
    }
    if let Err(e) = run(DatabaseUrl::Sqlite(std::path::PathBuf::new())) {
        eprintln!("SQLite: {e}");
        std::process::exit(1);
    }
    match std::env::var("CONFER_BENCH_PG_URL") {
        Ok(url) => {
            if let Err(e) = run(DatabaseUrl::Postgres(url)) {
                eprintln!("PostgreSQL: {e}");
                std::process::exit(1);
            }
        }
        Err(_) => println!("PostgreSQL: skipped (set CONFER_BENCH_PG_URL to an empty database)"),
    }
}
