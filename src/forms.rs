//! Field-level validation errors for forms. A form that fails validation is
//! rendered again with these messages next to the fields and the input kept.

use crate::i18n::{Lang, Tr};

/// The shortest password anyone may set.
pub const PASSWORD_MIN_LEN: usize = 10;

pub fn is_timezone(name: &str) -> bool {
    name.parse::<chrono_tz::Tz>().is_ok()
}

#[derive(Clone, Debug, Default)]
pub struct FieldErrors {
    items: Vec<(&'static str, String)>,
}

impl FieldErrors {
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.items.push((field, message.into()));
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.items
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// All messages, for the summary at the top of a form.
    pub fn all(&self) -> impl Iterator<Item = &(&'static str, String)> {
        self.items.iter()
    }
}

/// Shared checks; each adds a translated message when the value is bad.
pub struct Check<'a> {
    pub t: Tr,
    pub errors: &'a mut FieldErrors,
}

impl Check<'_> {
    pub fn required(&mut self, field: &'static str, value: &str, max: usize) {
        let value = value.trim();
        if value.is_empty() {
            self.errors.add(field, self.t.get("form.error.required"));
        } else if value.chars().count() > max {
            self.errors.add(
                field,
                self.t
                    .fmt("form.error.too_long", &[("max", &max.to_string())]),
            );
        }
    }

    pub fn email(&mut self, field: &'static str, value: &str) {
        let value = value.trim();
        if value.is_empty() {
            self.errors.add(field, self.t.get("form.error.required"));
        } else if !is_email(value) {
            self.errors.add(field, self.t.get("form.error.email"));
        }
    }

    pub fn language(&mut self, field: &'static str, value: &str) {
        if Lang::parse(value).is_none() {
            self.errors.add(field, self.t.get("form.error.language"));
        }
    }

    pub fn timezone(&mut self, field: &'static str, value: &str) {
        if !is_timezone(value.trim()) {
            self.errors.add(field, self.t.get("form.error.timezone"));
        }
    }

    pub fn new_password(
        &mut self,
        field: &'static str,
        password: &str,
        confirm_field: &'static str,
        confirm: &str,
    ) {
        if password.chars().count() < PASSWORD_MIN_LEN {
            self.errors.add(
                field,
                self.t.fmt(
                    "form.error.password_short",
                    &[("min", &PASSWORD_MIN_LEN.to_string())],
                ),
            );
        } else if password.len() > 72 {
            // bcrypt reads only the first 72 bytes.
            self.errors
                .add(field, self.t.get("form.error.password_long"));
        } else if password != confirm {
            self.errors
                .add(confirm_field, self.t.get("form.error.password_mismatch"));
        }
    }
}

/// A plausible email address: something@domain.tld, no spaces, ≤ 254 bytes.
pub fn is_email(value: &str) -> bool {
    value.len() <= 254
        && !value.contains(char::is_whitespace)
        && value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        })
}
