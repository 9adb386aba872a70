use confer::config::Config;
use confer::db::DatabaseUrl;

fn config_with(vars: &[(&str, &str)]) -> Result<Config, confer::config::ConfigError> {
    let owned: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(move |name| {
        owned
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    })
}

#[test]
fn defaults_are_sane_and_the_sqlite_key_is_kept() {
    let dir = std::env::temp_dir().join(format!("confer-config-{}", rand::random::<u32>()));
    let dir_text = dir.to_string_lossy().into_owned();
    let get = |name: &str| (name == "CONFER_DATA_DIR").then(|| dir_text.clone());
    let first = Config::from_lookup(get).expect("defaults");
    assert_eq!(first.bind.to_string(), "127.0.0.1:8080");
    assert_eq!(
        first.database_url,
        DatabaseUrl::Sqlite(dir.join("confer.db"))
    );
    assert_eq!(first.public_url, "http://127.0.0.1:8080");
    assert!(first.smtp_url.is_none());
    assert!(!first.secure_cookies());
    assert!(
        dir.join("secret_key").exists(),
        "the generated key is written to the data dir"
    );
    let second = Config::from_lookup(get).expect("again");
    assert_eq!(
        first.secret_key, second.secret_key,
        "a restart keeps the same key"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn postgres_without_a_secret_key_refuses_to_start() {
    let error =
        config_with(&[("DATABASE_URL", "postgres://127.0.0.1/confer")]).expect_err("must refuse");
    assert!(
        error
            .0
            .contains("CONFER_SECRET_KEY is required with PostgreSQL"),
        "{}",
        error.0
    );
}

#[test]
fn bad_values_are_explained() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("CONFER_BIND", "localhost")], "CONFER_BIND"),
        (&[("CONFER_BCRYPT_COST", "99")], "CONFER_BCRYPT_COST"),
        (&[("CONFER_SECRET_KEY", "short")], "at least 32"),
        (&[("CONFER_PUBLIC_URL", "example.com")], "CONFER_PUBLIC_URL"),
        (
            &[("CONFER_SMTP_URL", "mail.example.com")],
            "CONFER_SMTP_URL",
        ),
        (&[("DATABASE_URL", "mysql://db/confer")], "not supported"),
    ];
    for (vars, expected) in cases {
        let mut all = vec![
            ("CONFER_DATA_DIR", "/tmp/confer-config-bad"),
            ("CONFER_SECRET_KEY", "0123456789abcdef0123456789abcdef"),
        ];
        all.retain(|(k, _)| !vars.iter().any(|(v, _)| v == k));
        all.extend_from_slice(vars);
        let error = config_with(&all).expect_err("must refuse");
        assert!(error.0.contains(expected), "{vars:?}: {}", error.0);
    }
}

#[test]
fn https_public_url_makes_cookies_secure_and_urls_parse() {
    let config = config_with(&[
        ("CONFER_PUBLIC_URL", "https://help.example.com/"),
        ("CONFER_SECRET_KEY", "0123456789abcdef0123456789abcdef"),
        ("DATABASE_URL", "sqlite:///var/lib/confer/confer.db"),
    ])
    .expect("config");
    assert!(config.secure_cookies());
    assert_eq!(config.public_url, "https://help.example.com");
    assert_eq!(
        config.database_url,
        DatabaseUrl::Sqlite("/var/lib/confer/confer.db".into())
    );
    assert_eq!(
        DatabaseUrl::parse("postgres://u:secret@db/confer").map(|u| u.redacted()),
        Ok("postgres://***@db/confer".to_string())
    );
}

#[test]
fn single_sign_on_from_the_environment_is_checked_at_start() {
    let key = ("CONFER_SECRET_KEY", "0123456789abcdef0123456789abcdef");
    let ok = config_with(&[
        key,
        (
            "CONFER_OIDC_ISSUER",
            "https://login.example.com/realms/acme/",
        ),
        ("CONFER_OIDC_CLIENT_ID", "confer"),
        ("CONFER_OIDC_CLIENT_SECRET", "s3cret"),
    ])
    .expect("a complete provider");
    let oidc = ok.oidc.expect("configured");
    assert_eq!(oidc.issuer, "https://login.example.com/realms/acme");
    assert_eq!(oidc.client_secret.as_deref(), Some("s3cret"));
    let alone = config_with(&[key, ("CONFER_OIDC_ISSUER", "https://login.example.com")])
        .expect_err("issuer without client id");
    assert!(
        alone.to_string().contains("CONFER_OIDC_CLIENT_ID"),
        "{alone}"
    );
    let plain = config_with(&[
        key,
        ("CONFER_OIDC_ISSUER", "http://login.example.com"),
        ("CONFER_OIDC_CLIENT_ID", "confer"),
    ])
    .expect_err("plain http to another host");
    assert!(plain.to_string().contains("https://"), "{plain}");
    assert!(config_with(&[key]).expect("none").oidc.is_none());
}
