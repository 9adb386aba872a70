//! Small HTTP helpers shared by handlers.

use actix_web::HttpResponse;
use actix_web::http::header;

/// 303 See Other: the answer to a successful form post.
pub fn redirect(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_string()))
        .finish()
}

/// Only local paths are followed after sign-in (no open redirects): a path
/// of this site, without whitespace or control characters anywhere (browsers
/// drop tabs and newlines, so `/\t/evil` would become `//evil`), without
/// backslashes, and not protocol-relative. Anything else falls back to `/`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path
                    .chars()
                    .any(|c| c.is_control() || c.is_whitespace() || c == '\\') =>
        {
            path.to_string()
        }
        _ => "/".to_string(),
    }
}

/// Percent-encodes a query value.
pub fn url_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// Decodes an `application/x-www-form-urlencoded` body into pairs.
pub fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    body.split(|&b| b == b'&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut split = part.splitn(2, |&b| b == b'=');
            let key = url_decode(split.next().unwrap_or_default());
            let value = url_decode(split.next().unwrap_or_default());
            (key, value)
        })
        .collect()
}

fn url_decode(input: &[u8]) -> String {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < input.len() => {
                match std::str::from_utf8(&input[i + 1..i + 3])
                    .ok()
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Constant-time comparison for secrets.
pub fn secrets_match(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// A random token for CSRF and similar secrets.
pub fn random_token() -> String {
    hex::encode(rand::random::<[u8; 24]>())
}

/// A CSV file download; build cells with `csv_cell`.
pub fn csv_download(filename: &str, body: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

/// A CSV cell that a spreadsheet will not run as a formula.
pub fn csv_cell(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

/// SHA-256 (hex) of a bearer token, as tokens are stored: the inbound-mail,
/// SCIM and personal access tokens alike.
pub fn token_hash(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

/// The token of an `Authorization: Bearer …` header (scheme in any case).
pub fn bearer(req: &actix_web::HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

/// A stored file as a download: the type its bytes showed, never rendered
/// as a page (a sandboxing CSP even if a browser tried).
pub fn file_download(file: crate::models::attachment::AttachmentFile) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(file.content_type.as_str())
        .insert_header((
            header::CONTENT_DISPOSITION,
            content_disposition(&file.filename),
        ))
        .insert_header((header::CACHE_CONTROL, "private, max-age=3600"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; sandbox",
        ))
        .body(file.data)
}

/// `attachment; filename="plain"; filename*=UTF-8''encoded` (RFC 6266).
fn content_disposition(name: &str) -> header::HeaderValue {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let value = format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        url_encode(name)
    );
    header::HeaderValue::from_str(&value).unwrap_or(header::HeaderValue::from_static("attachment"))
}
