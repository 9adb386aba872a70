//! Typed configuration from environment variables, validated once at start.
//! Every variable is documented in README.md.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::db::DatabaseUrl;

const SECRET_KEY_FILE: &str = "secret_key";
/// `Key::derive_from` needs at least 32 bytes of material.
const MIN_SECRET_LEN: usize = 32;

#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: DatabaseUrl,
    pub data_dir: PathBuf,
    pub bind: SocketAddr,
    pub secret_key: Vec<u8>,
    pub public_url: String,
    pub smtp_url: Option<String>,
    pub mail_from: String,
    pub bcrypt_cost: u32,
    /// Requests a minute per API token (`CONFER_API_RATE_LIMIT`, default 600).
    pub api_rate_per_minute: u32,
    /// Proxies whose `Forwarded`/`X-Forwarded-For` name the client
    /// (`CONFER_TRUSTED_PROXIES`, CIDRs; default none).
    pub trusted_proxies: crate::net::TrustedProxies,
    /// Webhooks may target loopback, link-local and private addresses
    /// (`CONFER_WEBHOOK_ALLOW_PRIVATE`, default no).
    pub webhook_allow_private: bool,
    /// Single sign-on set by the environment (`CONFER_OIDC_ISSUER`,
    /// `CONFER_OIDC_CLIENT_ID`, `CONFER_OIDC_CLIENT_SECRET`,
    /// `CONFER_OIDC_LABEL`); when set, Settings > Security shows it read-only.
    pub oidc: Option<OidcConfig>,
}

#[derive(Clone, Debug)]
pub struct OidcConfig {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub label: Option<String>,
}

#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "configuration error: {}", self.0)
    }
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Reads variables through `get` so tests can pass their own.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let data_dir = PathBuf::from(get("CONFER_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let database_url = match get("DATABASE_URL") {
            Some(url) => DatabaseUrl::parse(&url).map_err(ConfigError)?,
            None => DatabaseUrl::Sqlite(data_dir.join("confer.db")),
        };
        let bind_text = get("CONFER_BIND").unwrap_or_else(|| "127.0.0.1:8080".into());
        let bind: SocketAddr = bind_text.parse().map_err(|_| {
            ConfigError(format!(
                "CONFER_BIND `{bind_text}` is not host:port (for example 127.0.0.1:8080 or 0.0.0.0:80)"
            ))
        })?;
        let public_url = get("CONFER_PUBLIC_URL")
            .unwrap_or_else(|| format!("http://{bind}"))
            .trim_end_matches('/')
            .to_string();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(ConfigError(format!(
                "CONFER_PUBLIC_URL `{public_url}` must start with http:// or https://"
            )));
        }
        let smtp_url = get("CONFER_SMTP_URL");
        if let Some(url) = &smtp_url
            && !(url.starts_with("smtp://") || url.starts_with("smtps://"))
        {
            return Err(ConfigError(format!(
                "CONFER_SMTP_URL `{url}` must start with smtp:// or smtps://"
            )));
        }
        let mail_from =
            get("CONFER_MAIL_FROM").unwrap_or_else(|| "Confer <confer@localhost>".into());
        if !mail_from.contains('@') {
            return Err(ConfigError(format!(
                "CONFER_MAIL_FROM `{mail_from}` is not an email address"
            )));
        }
        let bcrypt_cost = match get("CONFER_BCRYPT_COST") {
            None => bcrypt::DEFAULT_COST,
            Some(text) => match text.parse::<u32>() {
                Ok(cost) if (4..=31).contains(&cost) => cost,
                _ => {
                    return Err(ConfigError(format!(
                        "CONFER_BCRYPT_COST `{text}` must be a number from 4 to 31"
                    )));
                }
            },
        };
        let api_rate_per_minute = match get("CONFER_API_RATE_LIMIT") {
            None => 600,
            Some(text) => match text.parse::<u32>() {
                Ok(n) if n >= 1 => n,
                _ => {
                    return Err(ConfigError(format!(
                        "CONFER_API_RATE_LIMIT `{text}` must be a whole number of requests a minute (1 or more)"
                    )));
                }
            },
        };
        let trusted_proxies = crate::net::Cidr::parse_list(
            &get("CONFER_TRUSTED_PROXIES").unwrap_or_default(),
        )
        .map(crate::net::TrustedProxies)
        .map_err(|e| {
            ConfigError(format!(
                "CONFER_TRUSTED_PROXIES: {e} (give CIDRs separated by commas, e.g. 10.0.0.0/8,127.0.0.1)"
            ))
        })?;
        let webhook_allow_private = match get("CONFER_WEBHOOK_ALLOW_PRIVATE").as_deref() {
            None | Some("0" | "false" | "no") => false,
            Some("1" | "true" | "yes") => true,
            Some(other) => {
                return Err(ConfigError(format!(
                    "CONFER_WEBHOOK_ALLOW_PRIVATE `{other}` must be true or false"
                )));
            }
        };
        let oidc = match (get("CONFER_OIDC_ISSUER"), get("CONFER_OIDC_CLIENT_ID")) {
            (None, None) => None,
            (Some(issuer), Some(client_id)) => {
                let issuer = issuer.trim().trim_end_matches('/').to_string();
                if !is_issuer_url(&issuer) {
                    return Err(ConfigError(format!(
                        "CONFER_OIDC_ISSUER `{issuer}` must be an https:// address (http:// only for 127.0.0.1 or localhost)"
                    )));
                }
                Some(OidcConfig {
                    issuer,
                    client_id: client_id.trim().to_string(),
                    client_secret: get("CONFER_OIDC_CLIENT_SECRET"),
                    label: get("CONFER_OIDC_LABEL"),
                })
            }
            _ => {
                return Err(ConfigError(
                    "CONFER_OIDC_ISSUER and CONFER_OIDC_CLIENT_ID go together: set both or neither"
                        .into(),
                ));
            }
        };
        let secret_key = match get("CONFER_SECRET_KEY") {
            Some(key) if key.len() >= MIN_SECRET_LEN => key.into_bytes(),
            Some(_) => {
                return Err(ConfigError(format!(
                    "CONFER_SECRET_KEY must be at least {MIN_SECRET_LEN} characters (try `openssl rand -hex 32`)"
                )));
            }
            None if database_url.is_postgres() => {
                return Err(ConfigError(
                    "CONFER_SECRET_KEY is required with PostgreSQL: every node must share it \
                     (generate one with `openssl rand -hex 32`)"
                        .into(),
                ));
            }
            None => load_or_create_key(&data_dir)?,
        };
        Ok(Self {
            database_url,
            data_dir,
            bind,
            secret_key,
            public_url,
            smtp_url,
            mail_from,
            bcrypt_cost,
            api_rate_per_minute,
            trusted_proxies,
            webhook_allow_private,
            oidc,
        })
    }

    /// Cookies get the `Secure` flag when Confer is served over TLS.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// On SQLite (one node) a generated key is kept in the data directory, so a
/// restart keeps everyone signed in.
fn load_or_create_key(data_dir: &Path) -> Result<Vec<u8>, ConfigError> {
    let path = data_dir.join(SECRET_KEY_FILE);
    if let Ok(text) = std::fs::read_to_string(&path) {
        let key = text.trim();
        if key.len() >= MIN_SECRET_LEN {
            return Ok(key.as_bytes().to_vec());
        }
        return Err(ConfigError(format!(
            "{} is shorter than {MIN_SECRET_LEN} characters; delete it to generate a new key",
            path.display()
        )));
    }
    std::fs::create_dir_all(data_dir).map_err(|e| {
        ConfigError(format!(
            "cannot create CONFER_DATA_DIR {}: {e}",
            data_dir.display()
        ))
    })?;
    let key = hex::encode(rand::random::<[u8; 64]>());
    write_private(&path, &key)
        .map_err(|e| ConfigError(format!("cannot write {}: {e}", path.display())))?;
    tracing::info!(path = %path.display(), "generated a new session key");
    Ok(key.into_bytes())
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
}

/// An issuer is an https:// URL; plain http only on this machine (a test
/// or development provider).
pub fn is_issuer_url(text: &str) -> bool {
    let Ok(parsed) = openidconnect::url::Url::parse(text) else {
        return false;
    };
    match parsed.scheme() {
        "https" => parsed.host_str().is_some(),
        "http" => matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")),
        _ => false,
    }
}
