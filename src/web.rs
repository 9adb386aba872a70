//! Small HTTP helpers shared by handlers.

use actix_web::HttpResponse;
use actix_web::http::header;

/// `?notice=…` on the page a form redirects to: which message to show.
#[derive(serde::Deserialize, Default)]
pub struct NoticeQuery {
    pub notice: Option<String>,
}

impl NoticeQuery {
    /// The notice, or "" when there is none.
    pub fn notice(&self) -> &str {
        self.notice.as_deref().unwrap_or_default()
    }
}

/// A delete form that may name where the deleted thing's members go.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct DeleteForm {
    pub move_to: String,
}

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
        crate::urlencoded::url_encode(name)
    );
    header::HeaderValue::from_str(&value).unwrap_or(header::HeaderValue::from_static("attachment"))
}

/// Runs a service write in one transaction: its outcome, or the field
/// problems for the form to show again; every other refusal (403, 404, a
/// database error) becomes the error page.
pub async fn write<T, F>(
    state: &crate::state::AppState,
    work: F,
) -> crate::error::AppResult<Result<T, crate::services::Fields>>
where
    T: Send + 'static,
    F: FnOnce(&mut crate::db::DbConn) -> Result<T, crate::services::Refusal> + Send + 'static,
{
    state
        .db(move |conn| match crate::db::write_transaction(conn, work) {
            Ok(done) => Ok(Ok(done)),
            Err(crate::services::Refusal::Fields(fields)) => Ok(Err(fields)),
            Err(other) => Err(other.into()),
        })
        .await
}
