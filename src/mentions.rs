//! @mentions in notes: `@email` or `@Full Name` (any case), and questions
//! asked of someone: `@?email` or `@?Full Name`. Who is mentioned or asked
//! is found here; whether they may see the conversation is the policy's
//! question, asked by the caller.

/// A user who could be mentioned: (id, name, email).
pub type Candidate = (i64, String, String);

/// The ids of the candidates the text mentions (`@Name`).
pub fn mentioned(text: &str, candidates: &[Candidate]) -> Vec<i64> {
    found(text, candidates, "@")
}

/// The ids of the candidates the text asks a question (`@?Name`).
pub fn asked(text: &str, candidates: &[Candidate]) -> Vec<i64> {
    found(text, candidates, "@?")
}

fn found(text: &str, candidates: &[Candidate], sign: &str) -> Vec<i64> {
    let lower = text.to_lowercase();
    candidates
        .iter()
        .filter(|(_, name, email)| {
            mentions(&lower, sign, &email.to_lowercase())
                || mentions(&lower, sign, &name.to_lowercase())
        })
        .map(|(id, _, _)| *id)
        .collect()
}

/// `{sign}needle` occurs in `text`, not followed by a letter or digit (so `@Ann`
/// does not match `@Anna`).
fn mentions(text: &str, sign: &str, needle: &str) -> bool {
    if needle.trim().is_empty() {
        return false;
    }
    let pattern = format!("{sign}{needle}");
    text.match_indices(&pattern).any(|(at, _)| {
        text[at + pattern.len()..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric())
    })
}
