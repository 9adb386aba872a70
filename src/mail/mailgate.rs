//! `confer mailgate`: what an MTA pipes a message into. Reads one message
//! on stdin, posts it to `/inbound/email`, and exits with a code the MTA
//! understands (sysexits.h): 0 taken in, 75 try again later (the server is
//! down, busy or misconfigured — nothing is lost), 65 permanent refusal (the
//! MTA bounces it), 64 bad usage.

use std::io::Read;
use std::process::ExitCode;
use std::time::Duration;

pub const EX_OK: u8 = 0;
pub const EX_USAGE: u8 = 64;
pub const EX_DATAERR: u8 = 65;
pub const EX_TEMPFAIL: u8 = 75;

/// Reading more than this from stdin is a permanent refusal.
const MAX_STDIN_BYTES: u64 = 40 * 1024 * 1024;

pub struct Options {
    pub url: String,
    pub token: Option<String>,
    pub token_file: Option<std::path::PathBuf>,
    pub recipient: Option<String>,
    pub timeout: Duration,
}

pub fn run(options: Options) -> ExitCode {
    let token = match (&options.token, &options.token_file) {
        (_, Some(path)) => match std::fs::read_to_string(path) {
            Ok(text) => text.trim().to_string(),
            Err(e) => {
                eprintln!("mailgate: cannot read {}: {e}", path.display());
                return ExitCode::from(EX_TEMPFAIL);
            }
        },
        (Some(token), None) => token.trim().to_string(),
        (None, None) => {
            eprintln!("mailgate: give the inbound token (CONFER_INBOUND_TOKEN or --token-file)");
            return ExitCode::from(EX_USAGE);
        }
    };
    let mut message = Vec::new();
    if let Err(e) = std::io::stdin()
        .take(MAX_STDIN_BYTES + 1)
        .read_to_end(&mut message)
    {
        eprintln!("mailgate: cannot read the message: {e}");
        return ExitCode::from(EX_TEMPFAIL);
    }
    if message.len() as u64 > MAX_STDIN_BYTES {
        eprintln!("mailgate: the message is larger than {MAX_STDIN_BYTES} bytes");
        return ExitCode::from(EX_DATAERR);
    }
    let code = post(&options, &token, &message);
    ExitCode::from(code)
}

fn post(options: &Options, token: &str, message: &[u8]) -> u8 {
    let mut url = options.url.clone();
    if let Some(recipient) = &options.recipient {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str("recipient=");
        url.push_str(&crate::urlencoded::url_encode(recipient));
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(options.timeout))
        .http_status_as_error(false)
        .build()
        .into();
    let response = agent
        .post(&url)
        .header("Authorization", &format!("Bearer {token}"))
        .content_type("message/rfc822")
        .send(message);
    let mut response = match response {
        Ok(response) => response,
        Err(e) => {
            eprintln!("mailgate: cannot reach {}: {e}", options.url);
            return EX_TEMPFAIL;
        }
    };
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    let code = exit_code(status);
    if code == EX_OK {
        println!("{body}");
    } else {
        eprintln!("mailgate: the server answered {status}: {body}");
    }
    code
}

/// 2xx: taken in. 401/403 (a wrong token), 408, 429 and 5xx: temporary, so
/// the MTA keeps the message and tries again. Any other 4xx: permanent.
pub fn exit_code(status: u16) -> u8 {
    match status {
        200..=299 => EX_OK,
        401 | 403 | 408 | 429 => EX_TEMPFAIL,
        400..=499 => EX_DATAERR,
        _ => EX_TEMPFAIL,
    }
}
