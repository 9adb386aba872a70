//! Markdown preview for the composers: the text as it will show, rendered
//! and sanitized by the same code that stores it (JSON, for the
//! progressive-enhancement script).

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::auth::CurrentUser;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PreviewForm {
    pub text: String,
}

pub async fn markdown(_current: CurrentUser, form: web::Form<PreviewForm>) -> HttpResponse {
    let html = crate::markdown::render(&form.text);
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(serde_json::json!({ "html": html }).to_string())
}
