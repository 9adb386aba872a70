//! Files on messages and notes. They are kept in the database, not on disk:
//! every node of a PostgreSQL deployment serves them without shared storage,
//! and `confer backup` / a database dump carries them. Hence the size limit.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::DbConn;
use crate::db::schema::{attachments, outbox_attachments};

/// The largest file accepted, by email or upload.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;
/// The most a message may carry in all.
pub const MAX_TOTAL_BYTES: usize = 25 * 1024 * 1024;

/// What the timeline shows of a file (never its bytes).
#[derive(Queryable, Clone, Debug)]
pub struct AttachmentInfo {
    pub id: i64,
    pub message_id: Option<i64>,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub inline: bool,
}

impl AttachmentInfo {
    /// Raster images are shown in the page; anything else is a download.
    pub fn is_image(&self) -> bool {
        IMAGE_TYPES.contains(&self.content_type.as_str())
    }
}

/// A file with its bytes, for download or for an outgoing mail.
#[derive(Queryable, Clone, Debug)]
pub struct AttachmentFile {
    pub id: i64,
    pub conversation_id: i64,
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

pub struct NewFile<'a> {
    pub filename: &'a str,
    /// What the sender said it is; the stored type comes from the bytes.
    pub declared_type: &'a str,
    pub content_id: Option<&'a str>,
    pub inline: bool,
    pub data: &'a [u8],
}

const IMAGE_TYPES: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];

pub fn store(
    conn: &mut DbConn,
    conversation_id: i64,
    message_id: i64,
    file: &NewFile,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    let content_type = sniff(file.data, file.declared_type);
    diesel::insert_into(attachments::table)
        .values((
            attachments::conversation_id.eq(conversation_id),
            attachments::message_id.eq(message_id),
            attachments::filename.eq(clean_filename(file.filename)),
            attachments::content_type.eq(&content_type),
            attachments::size_bytes.eq(file.data.len() as i64),
            attachments::content_id.eq(file.content_id),
            attachments::inline.eq(file.inline && IMAGE_TYPES.contains(&content_type.as_str())),
            attachments::sha256.eq(hex::encode(Sha256::digest(file.data))),
            attachments::data.eq(file.data),
            attachments::created_at.eq(now),
        ))
        .returning(attachments::id)
        .get_result(conn)
}

/// The files of a conversation's messages, without their bytes.
pub fn of_conversation(
    conn: &mut DbConn,
    conversation_id: i64,
) -> QueryResult<Vec<AttachmentInfo>> {
    crate::on_backend!(conn, |c| attachments::table
        .filter(attachments::conversation_id.eq(conversation_id))
        .select((
            attachments::id,
            attachments::message_id,
            attachments::filename,
            attachments::content_type,
            attachments::size_bytes,
            attachments::inline,
        ))
        .order(attachments::id)
        .load(c))
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<AttachmentFile>> {
    attachments::table
        .find(id)
        .select((
            attachments::id,
            attachments::conversation_id,
            attachments::filename,
            attachments::content_type,
            attachments::data,
        ))
        .first(conn)
        .optional()
}

/// Sends these files with an outgoing mail.
pub fn attach_to_mail(conn: &mut DbConn, outbox_id: i64, ids: &[i64]) -> QueryResult<()> {
    for &attachment_id in ids {
        diesel::insert_into(outbox_attachments::table)
            .values((
                outbox_attachments::outbox_id.eq(outbox_id),
                outbox_attachments::attachment_id.eq(attachment_id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The files of a batch of outgoing mails, as (outbox id, file).
pub fn of_mails(conn: &mut DbConn, outbox_ids: &[i64]) -> QueryResult<Vec<(i64, AttachmentFile)>> {
    outbox_attachments::table
        .inner_join(attachments::table)
        .filter(outbox_attachments::outbox_id.eq_any(outbox_ids))
        .select((
            outbox_attachments::outbox_id,
            (
                attachments::id,
                attachments::conversation_id,
                attachments::filename,
                attachments::content_type,
                attachments::data,
            ),
        ))
        .order(attachments::id)
        .load(conn)
}

/// The type a file is served as, decided by its first bytes: a declared
/// type is believed only when the bytes agree (an "image/png" that is really
/// SVG with a script is served as a download of unknown type).
pub fn sniff(data: &[u8], declared: &str) -> String {
    const MAGIC: [(&[u8], &str); 7] = [
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"%PDF-", "application/pdf"),
        (b"\x1f\x8b", "application/gzip"),
        (b"PK\x03\x04", "application/zip"),
    ];
    if data.len() >= 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        return "image/webp".into();
    }
    let declared = declared.trim().to_ascii_lowercase();
    if let Some((_, kind)) = MAGIC.iter().find(|(magic, _)| data.starts_with(magic)) {
        // Office documents are zip files: keep their precise declared type.
        if *kind == "application/zip" && declared.starts_with("application/vnd.") {
            return declared;
        }
        return (*kind).into();
    }
    // Text is believed only when it was declared as text (or not declared):
    // an "image/png" made of text is a mismatch, served as unknown.
    let looks_textual = std::str::from_utf8(data).is_ok() && !data.contains(&0);
    let declared_textual = declared.starts_with("text/")
        || declared.is_empty()
        || declared == "application/octet-stream";
    match declared.as_str() {
        "text/csv" | "text/calendar" if looks_textual => declared,
        _ if looks_textual && declared_textual => "text/plain".into(),
        _ => "application/octet-stream".into(),
    }
}

/// A file name safe to show and to put in a header: no path, no control
/// characters, at most 150 characters.
pub fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(150)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    if cleaned.is_empty() {
        "attachment".into()
    } else {
        cleaned
    }
}
