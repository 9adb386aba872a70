//! Serving the static files (`crate::assets`), and the health check.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::assets::{FILES, version};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub async fn static_file(
    req: actix_web::HttpRequest,
    name: web::Path<String>,
) -> AppResult<HttpResponse> {
    let (_, content_type, bytes) = FILES
        .iter()
        .find(|(file, _, _)| *file == name.as_str())
        .ok_or(AppError::NotFound)?;
    // Versioned links never change content; unversioned ones might.
    let versioned = req.query_string() == format!("v={}", version());
    let cache = if versioned {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, *content_type))
        .insert_header((header::CACHE_CONTROL, cache))
        .body(*bytes))
}

/// 200 when the database answers, 503 otherwise; for load balancers.
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let result = state
        .db(|conn| {
            use diesel::connection::SimpleConnection;
            conn.batch_execute("SELECT 1")?;
            Ok(())
        })
        .await;
    match result {
        Ok(()) => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(r#"{"status":"ok","database":"ok"}"#),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            HttpResponse::ServiceUnavailable()
                .insert_header((header::CONTENT_TYPE, "application/json"))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .body(r#"{"status":"error","database":"unreachable"}"#)
        }
    }
}
