//! Time-based one-time passwords (RFC 6238: SHA-1, six digits, 30-second
//! steps, one step of drift either way) and recovery codes. Pure: the
//! caller supplies the time and keeps the newest accepted step, so no code
//! is accepted twice.

use totp_rs::{Algorithm, Secret, TOTP};

pub const STEP_SECONDS: i64 = 30;
pub const RECOVERY_CODES: usize = 10;

/// A new random secret, base32 as authenticator apps take it by hand.
pub fn new_secret() -> String {
    Secret::Raw(rand::random::<[u8; 20]>().to_vec())
        .to_encoded()
        .to_string()
}

fn totp(secret: &str, issuer: &str, account: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret.to_string()).to_bytes().ok()?;
    // An issuer or account with ':' is refused by the otpauth format.
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        STEP_SECONDS as u64,
        bytes,
        Some(issuer.replace(':', " ")),
        account.replace(':', " "),
    )
    .ok()
}

/// The `otpauth://` address the QR code carries.
pub fn provisioning_url(secret: &str, issuer: &str, account: &str) -> Option<String> {
    Some(totp(secret, issuer, account)?.get_url())
}

/// The QR code of `url` as an inline SVG element (no XML prolog), named for
/// screen readers by `label`.
pub fn qr_svg(url: &str, label: &str) -> Option<String> {
    use qrcode::render::svg;
    let code = qrcode::QrCode::new(url.as_bytes()).ok()?;
    let image = code
        .render::<svg::Color>()
        .min_dimensions(200, 200)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    let start = image.find("<svg")?;
    let label = label
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;");
    Some(image[start..].replacen(
        "<svg",
        &format!("<svg role=\"img\" aria-label=\"{label}\" class=\"qr-code\""),
        1,
    ))
}

/// The secret in groups of four characters, easier to type.
pub fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The 30-second step `code` is valid for at `unix_time`, if it is valid
/// within one step of drift and newer than `after_step`.
pub fn accepted_step(secret: &str, code: &str, unix_time: i64, after_step: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret, "Confer", "user")?;
    let now_step = unix_time.div_euclid(STEP_SECONDS);
    (now_step - 1..=now_step + 1)
        .filter(|&step| step > after_step && step >= 0)
        .find(|&step| {
            crate::crypto::secrets_match(&totp.generate((step * STEP_SECONDS) as u64), &code)
        })
}

/// The code for `unix_time` (for tests and the CLI's self-check).
pub fn code_at(secret: &str, unix_time: i64) -> Option<String> {
    Some(totp(secret, "Confer", "user")?.generate(unix_time.max(0) as u64))
}

/// Does this look like a six-digit code rather than a recovery code?
pub fn is_code(input: &str) -> bool {
    let digits: Vec<char> = input.chars().filter(|c| !c.is_whitespace()).collect();
    digits.len() == 6 && digits.iter().all(char::is_ascii_digit)
}

/// Ten new recovery codes like `k7m2p-x9qd4` (no 0/o, 1/l confusion).
pub fn new_recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    (0..RECOVERY_CODES)
        .map(|_| {
            let chars: Vec<char> = (0..10)
                .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
                .collect();
            format!(
                "{}-{}",
                chars[..5].iter().collect::<String>(),
                chars[5..].iter().collect::<String>()
            )
        })
        .collect()
}

/// How a recovery code is stored: SHA-256 of its letters and digits,
/// lower-case, without the dash or spaces a user may type.
pub fn recovery_code_hash(code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    crate::crypto::token_hash(&normal)
}
