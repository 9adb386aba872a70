//! Where request text enters: before any handler runs, `clean_request`
//! removes NUL characters (which PostgreSQL text refuses, and which no one
//! types) from the path, the query string and urlencoded and JSON bodies,
//! bounds those bodies, answers HEAD like GET and refuses methods Confer does
//! not serve. Multipart fields (`uploads`) and inbound mail (`mail::parse`)
//! pass their text through `clean_text`, so every backend stores the same.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, Uri, header};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{HttpMessage, HttpResponse, ResponseError};
use futures_util::StreamExt;

use crate::error::AppError;

/// The largest urlencoded form (sign-in, contact, settings): 256 KiB.
pub const MAX_FORM_BYTES: usize = 256 * 1024;
/// The longest search (`q`) any page or API route takes, in characters:
/// longer terms only cost the database (SQLite refuses huge LIKE patterns).
pub const MAX_SEARCH_CHARS: usize = 500;
/// JSON bodies larger than this are left to the API's own limit and error.
const MAX_JSON_CLEAN_BYTES: usize = 1024 * 1024;

/// Text as it may be stored: without NUL characters.
pub fn clean_text(text: String) -> String {
    if text.contains('\0') {
        text.replace('\0', "")
    } else {
        text
    }
}

/// A percent-encoded string (path, query or urlencoded body) without `%00`
/// and without raw NUL bytes; other escapes are kept as they are.
fn clean_percent_encoded(input: &[u8]) -> Option<Vec<u8>> {
    let dirty = input.contains(&0) || input.windows(3).any(|w| w == b"%00");
    if !dirty {
        return None;
    }
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            0 => i += 1,
            b'%' if input.get(i + 1..i + 3) == Some(b"00") => i += 3,
            b'%' if input.get(i + 1..i + 3).is_some() => {
                out.extend_from_slice(&input[i..i + 3]);
                i += 3;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    Some(out)
}

/// JSON text without `\u0000` escapes inside strings (an escaped backslash
/// followed by `u0000` is text and stays; a raw NUL byte is not JSON and is
/// left for the parser to refuse), and with whole numbers written as
/// decimals (`12.0`, which JSON Schema counts as an integer) written as
/// integers, so integer fields take them. `None` when nothing changed.
fn clean_json(input: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len());
    let (mut i, mut in_string, mut changed) = (0, false, false);
    while i < input.len() {
        let byte = input[i];
        if in_string {
            if byte == b'\\' {
                if input.get(i + 1..i + 6) == Some(b"u0000") {
                    changed = true;
                    i += 6;
                    continue;
                }
                out.extend_from_slice(&input[i..(i + 2).min(input.len())]);
                i += 2;
                continue;
            }
            in_string = byte != b'"';
            out.push(byte);
            i += 1;
            continue;
        }
        if byte == b'"' {
            in_string = true;
        } else if byte.is_ascii_digit() {
            let end = i + input[i..].iter().take_while(|b| b.is_ascii_digit()).count();
            let zeros = input[end..]
                .strip_prefix(b".")
                .map(|rest| rest.iter().take_while(|&&b| b == b'0').count());
            if let Some(zeros) = zeros.filter(|&z| z > 0) {
                let after = end + 1 + zeros;
                let more = input
                    .get(after)
                    .is_some_and(|b| b.is_ascii_digit() || matches!(b, b'e' | b'E'));
                if !more {
                    out.extend_from_slice(&input[i..end]);
                    changed = true;
                    i = after;
                    continue;
                }
            }
            out.extend_from_slice(&input[i..end]);
            i = end;
            continue;
        }
        out.push(byte);
        i += 1;
    }
    changed.then_some(out)
}

fn clean_uri(req: &mut ServiceRequest) {
    let uri = req.uri();
    let Some(path_and_query) = uri.path_and_query() else {
        return;
    };
    let Some(cleaned) = clean_percent_encoded(path_and_query.as_str().as_bytes()) else {
        return;
    };
    let mut parts = uri.clone().into_parts();
    let Ok(cleaned) = String::from_utf8(cleaned) else {
        return;
    };
    parts.path_and_query = cleaned.parse().ok();
    if let Ok(uri) = Uri::from_parts(parts) {
        req.match_info_mut().get_mut().update(&uri);
        req.head_mut().uri = uri;
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    Form,
    Json,
    Other,
}

fn body_kind(req: &ServiceRequest) -> BodyKind {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        BodyKind::Form
    } else if content_type.starts_with("application/json")
        || content_type.starts_with("application/scim+json")
        || content_type.starts_with("application/merge-patch+json")
    {
        BodyKind::Json
    } else {
        BodyKind::Other
    }
}

/// Reads at most `limit + 1` bytes: the body and whether it ended in time.
/// What was not read stays in `payload`.
pub async fn read_up_to(payload: &mut Payload, limit: usize) -> Result<(BytesMut, bool), AppError> {
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| AppError::BadRequest(format!("request body: {e}")))?;
        body.extend_from_slice(&chunk);
        if body.len() > limit {
            return Ok((body, false));
        }
    }
    Ok((body, true))
}

/// Puts a body back in front of what was not read yet.
pub fn restore_payload(req: &mut ServiceRequest, read: Bytes, rest: Payload) {
    let stream = futures_util::stream::once(async move { Ok(read) }).chain(rest);
    req.set_payload(Payload::Stream {
        payload: Box::pin(stream),
    });
}

/// The refusal as the caller reads it: JSON for the API, a page otherwise.
fn refuse<B>(
    req: ServiceRequest,
    error: AppError,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let response: HttpResponse = match error.request_problem() {
        Some((status, code, message)) if req.path().starts_with("/api/") => {
            crate::error::json_error(status, code, &message, &serde_json::Value::Null)
        }
        _ => error.error_response(),
    };
    Ok(req.into_response(response).map_into_right_body())
}

/// Whether the query's search text (`q`) is longer than any search takes.
fn search_too_long(req: &ServiceRequest) -> bool {
    let query = req.query_string();
    query.len() > MAX_SEARCH_CHARS
        && crate::urlencoded::form_pairs(query.as_bytes())
            .iter()
            .any(|(k, v)| k == "q" && v.chars().count() > MAX_SEARCH_CHARS)
}

pub async fn clean_request<B: MessageBody + 'static>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let method = req.method().clone();
    let has_body = match method {
        Method::GET | Method::OPTIONS => false,
        // Routes are declared for GET; HEAD answers the same without a body
        // (the HTTP layer drops it because the request said HEAD).
        Method::HEAD => {
            req.head_mut().method = Method::GET;
            false
        }
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE => true,
        // The API and SCIM answer other methods with their own errors.
        _ if req.path().starts_with("/api/") || req.path().starts_with("/scim/") => false,
        // CONNECT, TRACE and the rest: answered at once, the body unread.
        _ => return refuse(req, AppError::MethodNotAllowed),
    };
    clean_uri(&mut req);
    if search_too_long(&req) {
        return refuse(
            req,
            AppError::SearchTooLong {
                max: MAX_SEARCH_CHARS,
            },
        );
    }
    let kind = body_kind(&req);
    if has_body && kind != BodyKind::Other {
        let limit = if kind == BodyKind::Form {
            MAX_FORM_BYTES
        } else {
            MAX_JSON_CLEAN_BYTES
        };
        let mut payload = req.take_payload();
        let (body, complete) = match read_up_to(&mut payload, limit).await {
            Ok(read) => read,
            Err(e) => return refuse(req, e),
        };
        match (kind, complete) {
            (BodyKind::Form, false) => {
                tracing::warn!(limit, "refused a form body over the limit");
                return refuse(
                    req,
                    AppError::PayloadTooLarge {
                        limit_kib: MAX_FORM_BYTES / 1024,
                    },
                );
            }
            // Too large to clean: the API's own limit answers it.
            (_, false) => restore_payload(&mut req, body.freeze(), payload),
            (_, true) => {
                let cleaned = match kind {
                    BodyKind::Form => clean_percent_encoded(&body),
                    _ => clean_json(&body),
                };
                let body = cleaned.map_or_else(|| body.freeze(), Bytes::from);
                if let Ok(length) = header::HeaderValue::from_str(&body.len().to_string()) {
                    req.headers_mut().insert(header::CONTENT_LENGTH, length);
                }
                req.set_payload(Payload::from(body));
            }
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}
