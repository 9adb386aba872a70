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

/// Secrets the application must read back — TOTP secrets, the OpenID
/// Connect client secret — are stored sealed with AES-256-GCM under a key
/// derived from `CONFER_SECRET_KEY`: a copy of the database alone does not
/// reveal them. Stored as base64 of nonce and ciphertext.
pub fn seal(secret_key: &[u8], plaintext: &str) -> String {
    use aes_gcm::aead::{Aead, KeyInit};
    use base64::Engine;
    let cipher = aes_gcm::Aes256Gcm::new(&sealing_key(secret_key).into());
    let nonce: [u8; 12] = rand::random();
    // Encryption with a valid key and nonce does not fail for our sizes.
    let sealed = cipher
        .encrypt(&nonce.into(), plaintext.as_bytes())
        .unwrap_or_default();
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    base64::engine::general_purpose::STANDARD.encode(out)
}

/// The plaintext of `seal`, or `None` when it was sealed under another key
/// (or altered).
pub fn open(secret_key: &[u8], sealed: &str) -> Option<String> {
    use aes_gcm::aead::{Aead, KeyInit};
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(sealed)
        .ok()?;
    if bytes.len() < 12 {
        return None;
    }
    let (nonce, ciphertext) = bytes.split_at(12);
    let nonce: [u8; 12] = nonce.try_into().ok()?;
    let cipher = aes_gcm::Aes256Gcm::new(&sealing_key(secret_key).into());
    let plain = cipher.decrypt(&nonce.into(), ciphertext).ok()?;
    String::from_utf8(plain).ok()
}

fn sealing_key(secret_key: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(b"confer sealed secrets v1\0");
    hasher.update(secret_key);
    hasher.finalize().into()
}
