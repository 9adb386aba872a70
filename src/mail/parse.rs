//! Reading one inbound RFC 5322 message into what the helpdesk needs: who
//! wrote, to whom, the threading ids, the new text (quoted history split
//! off), the files, and whether a machine sent it. No database here, and no
//! input makes it panic (the fuzz test feeds it garbage).

use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders};

use crate::models::attachment;

/// Files larger than this are dropped (and said so in the message).
pub const MAX_ATTACHMENT_BYTES: usize = attachment::MAX_BYTES;

#[derive(Debug, Default)]
pub struct InboundMail {
    /// The sender's address, lowercased; `None` when the mail has none.
    pub from_email: Option<String>,
    pub from_name: Option<String>,
    /// Every address the mail was delivered to (To, Cc, Delivered-To,
    /// X-Original-To), lowercased.
    pub recipients: Vec<String>,
    pub subject: String,
    /// With angle brackets, as in the header.
    pub message_id: Option<String>,
    /// References then In-Reply-To, deduplicated, with angle brackets.
    pub thread_ids: Vec<String>,
    /// The new text of the message, quoted history removed.
    pub body: String,
    /// The quoted history, kept for "show quoted text".
    pub quoted: Option<String>,
    pub files: Vec<InboundFile>,
    /// Names of files dropped for being too large.
    pub dropped_files: Vec<String>,
    /// Why the mail looks machine-sent (auto-reply, bounce, bulk), if it does.
    pub automated: Option<String>,
}

#[derive(Debug)]
pub struct InboundFile {
    pub filename: String,
    pub declared_type: String,
    pub content_id: Option<String>,
    /// Referenced from the HTML body (`cid:`), shown as an image.
    pub inline: bool,
    pub data: Vec<u8>,
}

/// Parses a raw message; `None` when it is not a mail at all.
pub fn parse(raw: &[u8]) -> Option<InboundMail> {
    let message = MessageParser::default().parse(raw)?;
    // Something without any header we use is not a mail.
    if message.from().is_none() && message.subject().is_none() && message.message_id().is_none() {
        return None;
    }
    let (from_email, from_name) = message
        .from()
        .and_then(|a| a.first())
        .map(|a| {
            (
                a.address().map(|e| e.trim().to_lowercase()),
                a.name()
                    .map(|n| n.trim().to_string())
                    .filter(|n| !n.is_empty()),
            )
        })
        .unwrap_or((None, None));
    let mut recipients = Vec::new();
    for address in [message.to(), message.cc()].into_iter().flatten() {
        push_addresses(&mut recipients, address);
    }
    for name in ["Delivered-To", "X-Original-To", "Envelope-To"] {
        for value in message.header_values(name) {
            if let Some(text) = value.as_text() {
                recipients.push(text.trim().trim_matches(['<', '>']).to_lowercase());
            }
        }
    }
    let mut thread_ids = Vec::new();
    for value in [message.references(), message.in_reply_to()] {
        for id in ids_of(value) {
            if !thread_ids.contains(&id) {
                thread_ids.push(id);
            }
        }
    }
    let text = message
        .body_text(0)
        .map(|t| t.into_owned())
        .unwrap_or_default();
    let (body, quoted) = split_quoted(&normalize_newlines(&text));
    let html = message
        .body_html(0)
        .map(|h| h.into_owned())
        .unwrap_or_default();
    let automated = automated_reason(&message, from_email.as_deref());
    let mut files = Vec::new();
    let mut dropped_files = Vec::new();
    // Machine-sent mail is ignored, so its parts (bounce reports) are not kept.
    let parts = message.attachments().filter(|_| automated.is_none());
    for part in parts {
        let contents = part.contents();
        let content_id = part
            .content_id()
            .map(|id| id.trim().trim_matches(['<', '>']).to_string())
            .filter(|id| !id.is_empty());
        let declared_type = part
            .content_type()
            .map(|ct| match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub),
                None => ct.ctype().to_string(),
            })
            .unwrap_or_else(|| "application/octet-stream".into())
            .to_lowercase();
        let filename = part
            .attachment_name()
            .map(attachment::clean_filename)
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| default_name(&declared_type, files.len() + 1));
        if contents.len() > MAX_ATTACHMENT_BYTES {
            dropped_files.push(filename);
            continue;
        }
        let inline = content_id
            .as_deref()
            .is_some_and(|id| html.contains(&format!("cid:{id}")));
        files.push(InboundFile {
            filename,
            declared_type,
            content_id,
            inline,
            data: contents.to_vec(),
        });
    }
    Some(clean(InboundMail {
        automated,
        from_email: from_email.filter(|e| e.contains('@')),
        from_name,
        recipients,
        subject: message
            .subject()
            .map(|s| s.trim().to_string())
            .unwrap_or_default(),
        message_id: message.message_id().map(|id| format!("<{}>", id.trim())),
        thread_ids,
        body,
        quoted,
        files,
        dropped_files,
    }))
}

/// The mail's text as it may be stored (`input::clean_text`): a NUL byte
/// in a header or body never costs the customer their mail.
fn clean(mail: InboundMail) -> InboundMail {
    use crate::input::clean_text;
    let all = |list: Vec<String>| list.into_iter().map(clean_text).collect();
    InboundMail {
        from_email: mail.from_email.map(clean_text),
        from_name: mail.from_name.map(clean_text),
        recipients: all(mail.recipients),
        subject: clean_text(mail.subject),
        message_id: mail.message_id.map(clean_text),
        thread_ids: all(mail.thread_ids),
        body: clean_text(mail.body),
        quoted: mail.quoted.map(clean_text),
        files: mail
            .files
            .into_iter()
            .map(|f| InboundFile {
                filename: clean_text(f.filename),
                declared_type: clean_text(f.declared_type),
                content_id: f.content_id.map(clean_text),
                ..f
            })
            .collect(),
        dropped_files: all(mail.dropped_files),
        automated: mail.automated.map(clean_text),
    }
}

fn push_addresses(into: &mut Vec<String>, address: &Address) {
    for addr in address.iter() {
        if let Some(email) = addr.address() {
            into.push(email.trim().to_lowercase());
        }
    }
}

fn ids_of(value: &HeaderValue) -> Vec<String> {
    let raw: Vec<&str> = match value {
        HeaderValue::Text(id) => vec![id.as_ref()],
        HeaderValue::TextList(ids) => ids.iter().map(|id| id.as_ref()).collect(),
        _ => Vec::new(),
    };
    raw.into_iter()
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(|id| format!("<{id}>"))
        .collect()
}

fn default_name(content_type: &str, n: usize) -> String {
    let extension = match content_type {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "application/pdf" => "pdf",
        "text/plain" => "txt",
        _ => "bin",
    };
    format!("attachment-{n}.{extension}")
}

/// Unix newlines, no trailing spaces, at most one blank line in a row
/// (HTML converted to text leaves many).
fn normalize_newlines(text: &str) -> String {
    let unix = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(unix.len());
    let mut blank_run = 0;
    for line in unix.lines() {
        let line = line.trim_end();
        blank_run = if line.is_empty() { blank_run + 1 } else { 0 };
        if blank_run < 2 {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Why a mail looks sent by a machine: we never answer those, and never
/// open conversations for them (RFC 3834, bounces, bulk mail).
fn automated_reason(message: &mail_parser::Message, from: Option<&str>) -> Option<String> {
    let header = |name: &str| {
        message
            .header_raw(name)
            .map(|v| v.trim().to_ascii_lowercase())
    };
    if let Some(value) = header("Auto-Submitted")
        && value != "no"
    {
        return Some(format!("Auto-Submitted: {value}"));
    }
    if let Some(value) = header("Precedence")
        && ["bulk", "junk", "list", "auto_reply"].contains(&value.as_str())
    {
        return Some(format!("Precedence: {value}"));
    }
    for name in ["X-Autoreply", "X-Autorespond"] {
        if let Some(value) = header(name) {
            return Some(format!("{name}: {value}"));
        }
    }
    if let Some(path) = header("Return-Path")
        && path.trim_matches(['<', '>', ' ']).is_empty()
    {
        return Some("null sender (Return-Path: <>)".into());
    }
    if message.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart") && ct.subtype() == Some("report")
    }) {
        return Some("delivery report (multipart/report)".into());
    }
    let local = from.and_then(|f| f.split('@').next()).unwrap_or_default();
    if ["mailer-daemon", "postmaster"].contains(&local) {
        return Some(format!("sent by {local}"));
    }
    None
}

/// Splits an email body into what the sender wrote now and the history their
/// client quoted below it (Gmail's "On … wrote:", Outlook's header block or
/// "-----Original Message-----", and trailing `>` lines). When everything
/// would be quoted, nothing is.
pub fn split_quoted(text: &str) -> (String, Option<String>) {
    let lines: Vec<&str> = text.lines().collect();
    let cut = (0..lines.len()).find(|&i| starts_quote(&lines, i));
    let cut = cut.or_else(|| trailing_quote_block(&lines));
    match cut {
        Some(at) => {
            let body = lines[..at].join("\n").trim().to_string();
            let quoted = lines[at..].join("\n").trim().to_string();
            if body.is_empty() {
                (text.trim().to_string(), None)
            } else {
                (body, Some(quoted).filter(|q| !q.is_empty()))
            }
        }
        None => (text.trim().to_string(), None),
    }
}

const WROTE: [&str; 5] = ["wrote:", "schrieb:", "escribió:", "a écrit :", "a écrit:"];
const INTRO: [&str; 4] = ["On ", "Am ", "El ", "Le "];

fn starts_quote(lines: &[&str], i: usize) -> bool {
    let line = lines[i].trim();
    // Gmail and Apple Mail: "On <date>, <name> wrote:" (maybe over two lines).
    if INTRO.iter().any(|p| line.starts_with(p)) {
        if WROTE.iter().any(|w| line.ends_with(w)) {
            return true;
        }
        if let Some(next) = lines.get(i + 1)
            && WROTE.iter().any(|w| next.trim().ends_with(w))
        {
            return true;
        }
    }
    // Outlook: "-----Original Message-----" or a separator line and a header block.
    if line.starts_with("-----Original Message-----")
        || line.starts_with("----- Original Message -----")
    {
        return true;
    }
    let is_separator = line.len() >= 10 && line.chars().all(|c| c == '_');
    let header_block = |from: usize| {
        lines
            .get(from)
            .is_some_and(|l| l.trim_start().starts_with("From:"))
            && lines[from..]
                .iter()
                .take(5)
                .any(|l| l.trim_start().starts_with("Sent:") || l.trim_start().starts_with("Date:"))
    };
    if is_separator && header_block(i + 1) {
        return true;
    }
    line.starts_with("From:") && header_block(i) && i > 0 && lines[i - 1].trim().is_empty()
}

/// Where a final block of `>`-quoted lines (and blank lines) starts.
fn trailing_quote_block(lines: &[&str]) -> Option<usize> {
    let mut start = None;
    for (i, line) in lines.iter().enumerate().rev() {
        let line = line.trim_start();
        if line.starts_with('>') {
            start = Some(i);
        } else if !line.is_empty() {
            break;
        }
    }
    start
}
