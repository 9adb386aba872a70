//! The `confer` command line: serve (default), migrate, create-owner, demo,
//! backup, mailgate, worker.

use std::process::ExitCode;

use actix_web::{HttpServer, web};
use clap::{Parser, Subcommand};

use crate::app::build_app;
use crate::config::Config;
use crate::db::{self, Pool, write_transaction};
use crate::models::role::Role;
use crate::services::{Refusal, org};
use crate::state::{AppState, Clock};

#[derive(Parser)]
#[command(name = "confer", version, about = "Confer: a self-hosted helpdesk")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web application (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create the owner account without the browser (for automation). The
    /// password comes from CONFER_OWNER_PASSWORD or is asked for.
    CreateOwner {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Organisation name, when none is set up yet.
        #[arg(long, default_value = "Confer")]
        organisation: String,
    },
    /// Fill an empty database with a sample organisation.
    Demo,
    /// Remove a user's second factor (authenticator app, recovery codes,
    /// remembered devices) and sign them out: the break-glass for an owner
    /// who lost both their phone and their recovery codes. Audited.
    ResetTwoFactor {
        /// The user's email address.
        email: String,
    },
    /// Write a consistent copy of the SQLite database to PATH while Confer
    /// keeps running (on PostgreSQL, use pg_dump).
    Backup {
        /// Where to write the copy; must not exist yet.
        path: std::path::PathBuf,
    },
    /// Read one email on stdin and hand it to Confer (for an MTA's pipe).
    /// Exit codes: 0 taken in, 75 temporary failure, 65 refused, 64 usage.
    Mailgate {
        /// The inbound endpoint of the Confer server.
        #[arg(
            long,
            env = "CONFER_INBOUND_URL",
            default_value = "http://127.0.0.1:8080/inbound/email"
        )]
        url: String,
        /// The token from Settings > Email.
        #[arg(long, env = "CONFER_INBOUND_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// A file holding the token (keeps it out of the process list).
        #[arg(long)]
        token_file: Option<std::path::PathBuf>,
        /// The envelope recipient, e.g. Postfix's ${original_recipient}.
        #[arg(long)]
        recipient: Option<String>,
        /// Seconds to wait for the server.
        #[arg(long, default_value_t = 60)]
        timeout: u64,
    },
    /// Run the background work (outbox delivery, access windows, snoozes)
    /// without serving HTTP; `serve` runs it too.
    Worker {
        /// Stop once a round finds nothing to do (for scripts and tests).
        #[arg(long)]
        until_idle: bool,
        /// Seconds between rounds.
        #[arg(long, default_value_t = 5)]
        every: u64,
    },
}

pub fn main() -> ExitCode {
    crate::observe::init_logging();
    let cli = Cli::parse();
    // The mailgate talks HTTP only: it needs no database or server config.
    if let Some(Command::Mailgate {
        url,
        token,
        token_file,
        recipient,
        timeout,
    }) = cli.command
    {
        return crate::mail::mailgate::run(crate::mail::mailgate::Options {
            url,
            token,
            token_file,
            recipient,
            timeout: std::time::Duration::from_secs(timeout),
        });
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config),
        Command::Migrate => prepare(&config).map(|_| println!("database is up to date")),
        Command::CreateOwner {
            email,
            name,
            organisation,
        } => create_owner(&config, &email, &name, &organisation),
        Command::Backup { path } => backup(&config, &path),
        Command::ResetTwoFactor { email } => reset_two_factor(&config, &email),
        Command::Worker { until_idle, every } => worker(config, until_idle, every),
        Command::Mailgate { .. } => Ok(()),
        Command::Demo => prepare(&config).and_then(|pool| {
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            let summary = crate::services::demo::fill(&mut conn, &config)?;
            println!("{summary}");
            Ok(())
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn reset_two_factor(config: &Config, email: &str) -> Result<(), String> {
    let pool = prepare(config)?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let now = chrono::Utc::now().naive_utc();
    let email = crate::models::user::normalize_email(email);
    let user = db::write_transaction(&mut conn, |conn| {
        crate::services::security::reset_by_operator(conn, &email, now)
    })
    .map_err(|refusal| match refusal {
        crate::services::Refusal::NotFound => format!("no user has the email address {email}"),
        other => format!("cannot reset: {}", crate::error::AppError::from(other)),
    })?;
    println!(
        "two-factor sign-in reset for {} <{}>; they are signed out and sign in with their password",
        user.name, user.email
    );
    Ok(())
}

/// Connects, migrates and brings the built-in roles up to date.
pub fn prepare(config: &Config) -> Result<Pool, String> {
    let pool = db::connect(&config.database_url)?;
    let mut conn = pool
        .get()
        .map_err(|e| format!("cannot connect to {}: {e}", config.database_url.redacted()))?;
    let applied = db::migrate(&mut conn)?;
    if applied > 0 {
        tracing::info!(applied, "applied migrations");
    }
    let now = chrono::Utc::now().naive_utc();
    Role::sync_builtin(&mut conn, now).map_err(|e| format!("cannot set up roles: {e}"))?;
    if crate::markdown::check_version(&mut conn)
        .map_err(|e| format!("cannot check the stored HTML: {e}"))?
    {
        tracing::info!(
            version = crate::markdown::VERSION,
            "stored HTML will be rendered again"
        );
    }
    Ok(pool)
}

/// How long an idle kept-alive connection stays open.
const KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(5);

/// On SIGTERM or SIGINT: for one keep-alive period every answer says
/// `Connection: close` (so a request already on its way on a kept-alive
/// connection is answered, and the client knows not to send another there),
/// then the server stops accepting and lets requests in flight finish.
async fn drain_on_signal(state: web::Data<AppState>, server: actix_web::dev::ServerHandle) {
    use actix_web::rt::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot listen for SIGTERM/SIGINT; stop the server with SIGKILL");
        return;
    };
    first_of(term.recv(), int.recv()).await;
    tracing::info!("shutting down: answering with Connection: close, then stopping");
    state.start_draining();
    actix_web::rt::time::sleep(KEEP_ALIVE).await;
    server.stop(true).await;
}

/// Waits for whichever of two futures finishes first.
async fn first_of<A: std::future::Future, B: std::future::Future>(a: A, b: B) {
    let (a, b) = (std::pin::pin!(a), std::pin::pin!(b));
    futures_util::future::select(a, b).await;
}

fn serve(config: Config) -> Result<(), String> {
    let pool = prepare(&config)?;
    let bind = config.bind;
    tracing::info!(
        address = %bind,
        database = %config.database_url.redacted(),
        public_url = %config.public_url,
        "Confer is listening"
    );
    // Texts without stored HTML (after an upgrade) are rendered in the
    // background; until then a page renders such a text itself.
    let render_pool = pool.clone();
    std::thread::spawn(move || match crate::markdown::fill_missing(&render_pool) {
        Ok(0) => {}
        Ok(rendered) => tracing::info!(rendered, "stored HTML filled in"),
        Err(e) => tracing::error!(error = %e, "filling in stored HTML failed"),
    });
    let state = web::Data::new(AppState::new(pool, config, Clock::default()));
    actix_web::rt::System::new().block_on(async move {
        // The SMTP pool spawns its tasks: it is built inside the runtime.
        let mailer = std::sync::Arc::new(crate::mail::Mailer::from_config(&state.config)?);
        tracing::info!(mail = %mailer.describe(), "outgoing mail");
        crate::jobs::spawn(state.clone(), mailer, std::time::Duration::from_secs(5));
        let app_state = state.clone();
        let server = HttpServer::new(move || build_app(app_state.clone()))
            .bind(bind)
            .map_err(|e| format!("cannot listen on {bind}: {e}"))?
            .keep_alive(KEEP_ALIVE)
            .worker_max_blocking_threads(crate::app::BLOCKING_THREADS_PER_WORKER)
            .shutdown_timeout(30)
            .disable_signals()
            .run();
        actix_web::rt::spawn(drain_on_signal(state, server.handle()));
        server.await.map_err(|e| e.to_string())
    })
}

/// The background rounds alone. Several workers (and servers) may run at
/// once: the outbox lease gives each mail to one of them.
fn worker(config: Config, until_idle: bool, every: u64) -> Result<(), String> {
    let pool = prepare(&config)?;
    let state = AppState::new(pool, config, Clock::default());
    actix_web::rt::System::new().block_on(async move {
        let mailer = crate::mail::Mailer::from_config(&state.config)?;
        loop {
            let round = crate::jobs::run_once(&state, &mailer)
                .await
                .map_err(|e| e.to_string())?;
            if round != crate::jobs::Round::default() {
                tracing::info!(?round, "background round");
            } else if until_idle {
                return Ok(());
            }
            if round == crate::jobs::Round::default() {
                actix_web::rt::time::sleep(std::time::Duration::from_secs(every)).await;
            }
        }
    })
}

fn create_owner(
    config: &Config,
    email: &str,
    name: &str,
    organisation: &str,
) -> Result<(), String> {
    let password = match std::env::var("CONFER_OWNER_PASSWORD") {
        Ok(p) if !p.is_empty() => p,
        _ => prompt_password()?,
    };
    if password.chars().count() < crate::forms::PASSWORD_MIN_LEN {
        return Err(format!(
            "the password needs at least {} characters",
            crate::forms::PASSWORD_MIN_LEN
        ));
    }
    if password.len() > 72 {
        return Err("the password may have at most 72 bytes".into());
    }
    let pool = prepare(config)?;
    let hash = bcrypt::hash(&password, config.bcrypt_cost).map_err(|e| e.to_string())?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let now = Clock::default().now();
    let input = org::Setup {
        org_name: organisation,
        default_language: "en",
        timezone: "UTC",
        name,
        email,
        password_hash: &hash,
    };
    match write_transaction(&mut conn, |conn| org::set_up(conn, &input, now)) {
        Ok(owner) => {
            println!("owner {} created", owner.email);
            Ok(())
        }
        Err(Refusal::Rule(_)) => Err("an owner already exists".into()),
        Err(Refusal::Fields(fields)) => Err(fields
            .0
            .iter()
            .map(|(field, problem)| format!("--{}: {}", option_of(field), problem.english()))
            .collect::<Vec<_>>()
            .join("; ")),
        Err(other) => Err(format!("{other:?}")),
    }
}

/// The command-line option a setup field comes from.
fn option_of(field: &str) -> &str {
    match field {
        "org_name" => "organisation",
        other => other,
    }
}

/// `VACUUM INTO` copies the live database in one read transaction: writers
/// carry on, and the copy is consistent and compact.
fn backup(config: &Config, path: &std::path::Path) -> Result<(), String> {
    use diesel::RunQueryDsl;
    if config.database_url.is_postgres() {
        return Err("`confer backup` is for SQLite; back up PostgreSQL with pg_dump".into());
    }
    if path.exists() {
        return Err(format!(
            "{} exists already; choose a new file",
            path.display()
        ));
    }
    if let Some(dir) = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.is_dir())
    {
        return Err(format!("the directory {} does not exist", dir.display()));
    }
    let pool = prepare(config)?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let target = path.to_string_lossy().replace('\'', "''");
    diesel::sql_query(format!("VACUUM INTO '{target}'"))
        .execute(&mut *conn)
        .map_err(|e| format!("backup failed: {e}"))?;
    println!("backup written to {}", path.display());
    Ok(())
}

fn prompt_password() -> Result<String, String> {
    use std::io::{BufRead, Write};
    eprint!("Password for the owner (input is visible; set CONFER_OWNER_PASSWORD to avoid this): ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}
