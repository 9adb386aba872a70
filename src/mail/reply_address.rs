//! Signed reply addresses: every notification email carries a Reply-To of
//! the form `support+note-<user>-<conversation>-<expiry>-<mac>@example.com`
//! (plus-addressing on `CONFER_MAIL_FROM`). A reply to it becomes a private
//! note by that user — only if the signature, the expiry and the sender all
//! check out.

use chrono::{NaiveDate, TimeDelta};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// How long a notification can be answered by email.
pub const VALID_DAYS: i64 = 90;
const PREFIX: &str = "note-";
/// 12 bytes of HMAC-SHA256: forging one takes 2^96 tries.
const MAC_BYTES: usize = 12;

#[derive(Clone)]
pub struct ReplySigner {
    key: [u8; 32],
    local: String,
    domain: String,
}

/// Why a reply address was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Malformed,
    BadSignature,
    Expired,
}

impl Refusal {
    pub fn key(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::BadSignature => "forged",
            Self::Expired => "expired",
        }
    }
}

impl ReplySigner {
    /// The signer of this installation: its secret key and sender address.
    pub fn from_config(config: &crate::config::Config) -> Self {
        Self::new(&config.secret_key, &config.mail_from)
    }

    /// `mail_from` is `CONFER_MAIL_FROM` ("Name <support@example.com>").
    pub fn new(secret: &[u8], mail_from: &str) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"confer reply address v1\0");
        hasher.update(secret);
        let address = bare_address(mail_from);
        let (local, domain) = address.rsplit_once('@').unwrap_or((&address, "localhost"));
        Self {
            key: hasher.finalize().into(),
            local: local.to_string(),
            domain: domain.to_string(),
        }
    }

    /// The Reply-To of a notification sent to `user_id` about `conversation_id` today.
    pub fn address(&self, user_id: i64, conversation_id: i64, today: NaiveDate) -> String {
        let expires = today + TimeDelta::days(VALID_DAYS);
        format!(
            "{}+{}@{}",
            self.local,
            self.token(user_id, conversation_id, day_number(expires)),
            self.domain
        )
    }

    fn token(&self, user_id: i64, conversation_id: i64, expires: i64) -> String {
        format!(
            "{PREFIX}{user_id}-{conversation_id}-{expires}-{}",
            hex::encode(self.mac(user_id, conversation_id, expires))
        )
    }

    fn mac(&self, user_id: i64, conversation_id: i64, expires: i64) -> Vec<u8> {
        // new_from_slice accepts any key length for HMAC; 32 bytes never fails.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            return Vec::new();
        };
        mac.update(format!("{user_id}.{conversation_id}.{expires}").as_bytes());
        mac.finalize().into_bytes()[..MAC_BYTES].to_vec()
    }

    /// The reply token among the addresses a mail was delivered to, if any
    /// address looks like one (signed or not).
    pub fn find_token(recipients: &[String]) -> Option<String> {
        recipients.iter().find_map(|address| {
            let local = address.rsplit_once('@')?.0;
            let (_, tag) = local.split_once('+')?;
            tag.to_ascii_lowercase()
                .starts_with(PREFIX)
                .then(|| tag.to_ascii_lowercase())
        })
    }

    /// Checks a token: returns (user id, conversation id).
    pub fn verify(&self, token: &str, today: NaiveDate) -> Result<(i64, i64), Refusal> {
        let rest = token.strip_prefix(PREFIX).ok_or(Refusal::Malformed)?;
        let parts: Vec<&str> = rest.split('-').collect();
        let [user, conversation, expires, mac] = parts[..] else {
            return Err(Refusal::Malformed);
        };
        let (Ok(user), Ok(conversation), Ok(expires), Ok(mac)) = (
            user.parse::<i64>(),
            conversation.parse::<i64>(),
            expires.parse::<i64>(),
            hex::decode(mac),
        ) else {
            return Err(Refusal::Malformed);
        };
        let expected = self.mac(user, conversation, expires);
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            expected.as_slice(),
            mac.as_slice(),
        )) {
            return Err(Refusal::BadSignature);
        }
        if day_number(today) > expires {
            return Err(Refusal::Expired);
        }
        Ok((user, conversation))
    }
}

/// Days since 1970-01-01.
fn day_number(date: NaiveDate) -> i64 {
    (date - NaiveDate::default()).num_days()
}

/// `support@example.com` out of `Support <support@example.com>`.
pub fn bare_address(mailbox: &str) -> String {
    match (mailbox.rfind('<'), mailbox.rfind('>')) {
        (Some(start), Some(end)) if start < end => mailbox[start + 1..end].trim().to_string(),
        _ => mailbox.trim().to_string(),
    }
}
