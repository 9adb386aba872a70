//! Masking customers' contact details (for collaborators, when the
//! organisation asks for it). Whether to mask is the policy's decision.

/// `john@example.com` → `j•••@example.com`.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}•••@{domain}")
        }
        None => "•••".into(),
    }
}

/// Keeps the last two digits: `+49 30 1234567` → `••••••67`.
pub fn mask_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    let tail: String = digits.iter().rev().take(2).rev().collect();
    format!("••••••{tail}")
}

/// A contact detail as the reader may see it.
pub fn shown(value: Option<&str>, masked: bool, mask: fn(&str) -> String) -> String {
    match value {
        Some(v) if masked => mask(v),
        Some(v) => v.to_string(),
        None => String::new(),
    }
}
