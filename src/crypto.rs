//! Secrets: random tokens, how bearer tokens are stored (SHA-256) and
//! constant-time comparison. Nothing here keeps state or knows about HTTP.

/// Constant-time comparison for secrets.
pub fn secrets_match(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// A random token for CSRF and similar secrets.
pub fn random_token() -> String {
    hex::encode(rand::random::<[u8; 24]>())
}

/// SHA-256 (hex) of a bearer token, as tokens are stored: the inbound-mail,
/// SCIM and personal access tokens alike.
pub fn token_hash(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}
