//! @mentions in notes: `@email` or `@Full Name` (any case). Who is mentioned
//! is found here; whether they may see the conversation is the policy's
//! question, asked by the caller.

/// A user who could be mentioned: (id, name, email).
pub type Candidate = (i64, String, String);

/// The ids of the candidates the text mentions.
pub fn mentioned(text: &str, candidates: &[Candidate]) -> Vec<i64> {
    let lower = text.to_lowercase();
    candidates
        .iter()
        .filter(|(_, name, email)| {
            mentions(&lower, &email.to_lowercase()) || mentions(&lower, &name.to_lowercase())
        })
        .map(|(id, _, _)| *id)
        .collect()
}

/// `@needle` occurs in `text`, not followed by a letter or digit (so `@Ann`
/// does not match `@Anna`).
fn mentions(text: &str, needle: &str) -> bool {
    if needle.trim().is_empty() {
        return false;
    }
    let pattern = format!("@{needle}");
    text.match_indices(&pattern).any(|(at, _)| {
        text[at + pattern.len()..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric())
    })
}
