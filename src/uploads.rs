//! Reading a composer's submission: a plain urlencoded form, or multipart
//! with files. Limits are checked while reading; a file over the limit is
//! skipped (and named) so the rest of the form — the text someone typed —
//! still comes through and can be shown again with the error.

use actix_multipart::Multipart;
use actix_web::{HttpRequest, web};
use futures_util::StreamExt;

use crate::models::attachment::{self, NewFile};

/// Text fields are small; files have their own limits.
const MAX_FIELD_BYTES: usize = 256 * 1024;

pub struct Upload {
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

#[derive(Default)]
pub struct Submission {
    pub fields: Vec<(String, String)>,
    pub files: Vec<Upload>,
    /// Files refused for their size.
    pub too_large: Vec<String>,
    /// The body could not be read (a broken upload).
    pub broken: bool,
}

impl Submission {
    pub fn field(&self, name: &str) -> String {
        self.fields
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .unwrap_or_default()
    }

    /// The files in the shape the attachment store takes.
    pub fn new_files(&self) -> Vec<NewFile<'_>> {
        self.files
            .iter()
            .map(|f| NewFile {
                filename: &f.filename,
                declared_type: &f.content_type,
                content_id: None,
                inline: false,
                data: &f.data,
            })
            .collect()
    }
}

pub async fn read(req: &HttpRequest, mut payload: web::Payload) -> Submission {
    let is_multipart = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if is_multipart {
        return read_multipart(Multipart::new(req.headers(), payload)).await;
    }
    let mut body = Vec::new();
    let mut submission = Submission::default();
    while let Some(chunk) = payload.next().await {
        match chunk {
            Ok(chunk) if body.len() + chunk.len() <= MAX_FIELD_BYTES => {
                body.extend_from_slice(&chunk)
            }
            _ => {
                submission.broken = true;
                return submission;
            }
        }
    }
    // `input::clean_request` removed NUL from urlencoded bodies already.
    submission.fields = crate::urlencoded::form_pairs(&body);
    submission
}

async fn read_multipart(mut multipart: Multipart) -> Submission {
    let mut submission = Submission::default();
    let mut total = 0;
    while let Some(field) = multipart.next().await {
        let Ok(mut field) = field else {
            submission.broken = true;
            return submission;
        };
        let name = field.name().unwrap_or_default().to_string();
        let filename = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(str::to_string);
        let content_type = field
            .content_type()
            .map(|m| m.essence_str().to_string())
            .unwrap_or_default();
        let limit = if filename.is_some() {
            attachment::MAX_BYTES
        } else {
            MAX_FIELD_BYTES
        };
        let mut data = Vec::new();
        let mut over = false;
        while let Some(chunk) = field.next().await {
            let Ok(chunk) = chunk else {
                submission.broken = true;
                return submission;
            };
            // Keep reading past the limit (discarding) so later fields arrive;
            // a text field keeps its first `limit` bytes.
            if !over && data.len() + chunk.len() > limit {
                over = true;
                if filename.is_none() {
                    data.extend_from_slice(&chunk[..limit - data.len()]);
                }
            } else if !over {
                data.extend_from_slice(&chunk);
            }
        }
        match filename {
            // A file input left empty still sends a part with no name.
            Some(filename) if filename.is_empty() && data.is_empty() => {}
            Some(filename) if over || total + data.len() > attachment::MAX_TOTAL_BYTES => {
                submission
                    .too_large
                    .push(attachment::clean_filename(&filename));
            }
            Some(filename) => {
                total += data.len();
                submission.files.push(Upload {
                    filename: crate::input::clean_text(filename),
                    content_type,
                    data,
                });
            }
            // Text over the limit keeps what fits, so the page can show it
            // again with the field's length error.
            None => submission.fields.push((
                name,
                crate::input::clean_text(String::from_utf8_lossy(&data).into_owned()),
            )),
        }
    }
    submission
}
