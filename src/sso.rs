//! Single sign-on with one OpenID Connect provider: the authorization code
//! flow with PKCE (S256), `state` and `nonce`, and the ID token verified
//! against the provider's published keys — signature, issuer, audience,
//! expiry (by the application's clock) and nonce — before its email is
//! believed. Which Confer user that email may become is decided by the
//! caller with the same rules as a password sign-in. The HTTP calls block:
//! run them in `web::block`.

use chrono::NaiveDateTime;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};

use crate::config::Config;
use crate::models::org::OrgSettings;

/// The path the provider sends the browser back to (register it there as
/// `CONFER_PUBLIC_URL` + this).
pub const CALLBACK_PATH: &str = "/login/sso/callback";

/// The configured provider: the environment's when set, else Settings >
/// Security's.
#[derive(Clone, Debug)]
pub struct Provider {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    /// The button reads "Sign in with {label}".
    pub label: String,
}

impl Provider {
    pub fn configured(config: &Config, org: &OrgSettings) -> Option<Provider> {
        if let Some(env) = &config.oidc {
            return Some(Provider {
                issuer: env.issuer.clone(),
                client_id: env.client_id.clone(),
                client_secret: env.client_secret.clone(),
                label: env
                    .label
                    .clone()
                    .unwrap_or_else(|| default_label(&env.issuer)),
            });
        }
        let (Some(issuer), Some(client_id)) = (&org.sso_issuer, &org.sso_client_id) else {
            return None;
        };
        let client_secret = match &org.sso_client_secret {
            Some(sealed) => match crate::crypto::open(&config.secret_key, sealed) {
                Some(secret) => Some(secret),
                None => {
                    tracing::error!(
                        "the single sign-on client secret does not open with this CONFER_SECRET_KEY: enter it again in Settings > Security"
                    );
                    return None;
                }
            },
            None => None,
        };
        Some(Provider {
            issuer: issuer.clone(),
            client_id: client_id.clone(),
            client_secret,
            label: org
                .sso_label
                .clone()
                .unwrap_or_else(|| default_label(issuer)),
        })
    }
}

/// "Sign in with accounts.example.com" when no label was given.
fn default_label(issuer: &str) -> String {
    issuer
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or(issuer)
        .to_string()
}

/// Why a single sign-on did not produce a verified email. Each has a
/// message on the sign-in page (`sso.error.<key>`).
#[derive(Debug)]
pub enum SsoError {
    /// Discovery or the keys could not be fetched.
    Unreachable(String),
    /// The provider refused the code (a replayed code, a PKCE mismatch).
    Exchange(String),
    /// The ID token failed verification (signature, issuer, audience,
    /// expiry, nonce).
    IdToken(String),
    /// The ID token carries no email, or says it is not verified.
    NoVerifiedEmail,
}

impl SsoError {
    pub fn key(&self) -> &'static str {
        match self {
            Self::Unreachable(_) => "sso.error.unreachable",
            Self::Exchange(_) => "sso.error.exchange",
            Self::IdToken(_) => "sso.error.id_token",
            Self::NoVerifiedEmail => "sso.error.no_email",
        }
    }
}

/// What the browser carries to the provider, and what the session keeps
/// to check its return.
pub struct Started {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// The verified identity the provider vouched for.
#[derive(Debug)]
pub struct Identity {
    pub email: String,
    pub name: Option<String>,
}

#[derive(Debug)]
pub struct HttpError(String);

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HttpError {}

/// The provider's endpoints over ureq: no redirects followed (the OAuth
/// 2.0 security advice), ten seconds at most.
fn http_client()
-> impl Fn(openidconnect::HttpRequest) -> Result<openidconnect::HttpResponse, HttpError> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(10)))
        .build()
        .into();
    move |request: openidconnect::HttpRequest| {
        let mut response = agent.run(request).map_err(|e| HttpError(e.to_string()))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .body_mut()
            .with_config()
            .limit(1024 * 1024)
            .read_to_vec()
            .map_err(|e| HttpError(e.to_string()))?;
        let mut built = openidconnect::http::Response::new(body);
        *built.status_mut() = status;
        *built.headers_mut() = headers;
        Ok(built)
    }
}

type Client = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

fn client(provider: &Provider, redirect_url: &str) -> Result<Client, SsoError> {
    let issuer = IssuerUrl::new(provider.issuer.clone())
        .map_err(|e| SsoError::Unreachable(e.to_string()))?;
    let metadata = CoreProviderMetadata::discover(&issuer, &http_client())
        .map_err(|e| SsoError::Unreachable(error_chain(&e)))?;
    let redirect = RedirectUrl::new(redirect_url.to_string())
        .map_err(|e| SsoError::Unreachable(e.to_string()))?;
    Ok(CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(provider.client_id.clone()),
        provider.client_secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(redirect))
}

/// Where to send the browser, with a fresh state, nonce and PKCE pair.
pub fn start(provider: &Provider, redirect_url: &str) -> Result<Started, SsoError> {
    let client = client(provider, redirect_url)?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    Ok(Started {
        url: url.to_string(),
        state: state.secret().clone(),
        nonce: nonce.secret().clone(),
        pkce_verifier: verifier.secret().clone(),
    })
}

/// Exchanges the code (with the PKCE verifier) and verifies the ID token
/// as of `now`; the state was compared by the caller.
pub fn finish(
    provider: &Provider,
    redirect_url: &str,
    code: &str,
    pkce_verifier: &str,
    nonce: &str,
    now: NaiveDateTime,
) -> Result<Identity, SsoError> {
    let client = client(provider, redirect_url)?;
    let http = http_client();
    let token = client
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .map_err(|e| SsoError::Exchange(e.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_string()))
        .request(&http)
        .map_err(|e| SsoError::Exchange(error_chain(&e)))?;
    let id_token = token
        .id_token()
        .ok_or_else(|| SsoError::IdToken("the token response has no ID token".into()))?;
    let now_utc = now.and_utc();
    let verifier = client.id_token_verifier().set_time_fn(move || now_utc);
    let claims = id_token
        .claims(&verifier, &Nonce::new(nonce.to_string()))
        .map_err(|e| SsoError::IdToken(error_chain(&e)))?;
    let Some(email) = claims.email() else {
        return Err(SsoError::NoVerifiedEmail);
    };
    if claims.email_verified() == Some(false) {
        return Err(SsoError::NoVerifiedEmail);
    }
    let name = claims
        .name()
        .and_then(|n| n.get(None))
        .map(|n| n.to_string());
    Ok(Identity {
        email: crate::models::user::normalize_email(email.as_str()),
        name,
    })
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
