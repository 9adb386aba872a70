//! Sending mail: through SMTP when `CONFER_SMTP_URL` is set, else as `.eml`
//! files in `$CONFER_DATA_DIR/mail`. Nothing sends directly: handlers queue
//! rows in the outbox (`models::outbox`) and `jobs` delivers them.

pub mod mailgate;
pub mod parse;
pub mod reply_address;

use std::path::PathBuf;

use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Config;
use crate::models::attachment::AttachmentFile;
use crate::models::outbox::OutboxMail;

pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(PathBuf),
}

/// Why a mail was not sent; permanent failures are not retried.
#[derive(Debug)]
pub struct SendError {
    pub message: String,
    pub permanent: bool,
}

impl Mailer {
    pub fn from_config(config: &Config) -> Result<Self, String> {
        match &config.smtp_url {
            Some(url) => AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                .map(|builder| {
                    Self::Smtp(
                        builder
                            .timeout(Some(std::time::Duration::from_secs(20)))
                            .build(),
                    )
                })
                .map_err(|e| format!("CONFER_SMTP_URL is not usable: {e}")),
            None => Ok(Self::Files(config.data_dir.join("mail"))),
        }
    }

    /// Where mail goes, in words, for the admin pages.
    pub fn describe(&self) -> String {
        match self {
            Self::Smtp(_) => "SMTP".into(),
            Self::Files(dir) => format!("files in {}", dir.display()),
        }
    }

    pub async fn send(
        &self,
        from: &str,
        mail: &OutboxMail,
        files: &[AttachmentFile],
    ) -> Result<(), SendError> {
        let message = build_message(from, mail, files).map_err(|message| SendError {
            message,
            permanent: true,
        })?;
        match self {
            Self::Smtp(transport) => {
                transport
                    .send(message)
                    .await
                    .map(|_| ())
                    .map_err(|e| SendError {
                        permanent: e.is_permanent(),
                        message: e.to_string(),
                    })
            }
            Self::Files(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| SendError {
                    message: format!("cannot create {}: {e}", dir.display()),
                    permanent: false,
                })?;
                AsyncFileTransport::<Tokio1Executor>::new(dir)
                    .send(message)
                    .await
                    .map(|_| ())
                    .map_err(|e| SendError {
                        message: e.to_string(),
                        permanent: false,
                    })
            }
        }
    }
}

fn build_message(
    from: &str,
    mail: &OutboxMail,
    files: &[AttachmentFile],
) -> Result<Message, String> {
    let from: Mailbox = from.parse().map_err(|e| format!("sender {from}: {e}"))?;
    let to: Mailbox = mail
        .recipient
        .parse()
        .map_err(|e| format!("recipient {}: {e}", mail.recipient))?;
    // Every mail gets a Message-ID; one not chosen for threading is derived
    // from the outbox row, so a retried delivery keeps the same one.
    let message_id = mail.message_id.clone().unwrap_or_else(|| {
        format!(
            "<confer.{}.{}@{}>",
            mail.id,
            mail.created_at.and_utc().timestamp(),
            from.email.domain()
        )
    });
    let mut builder = Message::builder()
        .from(from)
        .to(to)
        .subject(&mail.subject)
        .message_id(Some(message_id));
    if let Some(parent) = &mail.in_reply_to {
        builder = builder.in_reply_to(parent.clone());
    }
    if let Some(chain) = &mail.references_header {
        builder = builder.references(chain.clone());
    }
    if let Some(reply_to) = &mail.reply_to {
        builder = builder.reply_to(reply_to.parse().map_err(|e| format!("reply-to: {e}"))?);
    }
    if files.is_empty() {
        return builder
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body_text.clone())
            .map_err(|e| e.to_string());
    }
    let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(mail.body_text.clone()));
    for file in files {
        let content_type = ContentType::parse(&file.content_type)
            .unwrap_or(ContentType::parse("application/octet-stream").map_err(|e| e.to_string())?);
        parts = parts.singlepart(
            Attachment::new(file.filename.clone()).body(file.data.clone(), content_type),
        );
    }
    builder.multipart(parts).map_err(|e| e.to_string())
}
