//! Translations: one Fluent file per language in `locales/` (`login-title =
//! …`; the code names it `login.title`), compiled into the binary. Plural
//! variants follow each language's CLDR rules. A test fails when a locale
//! lacks a message another one has, or a variable.

use std::collections::HashMap;
use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use fluent_syntax::ast;
use unic_langid::LanguageIdentifier;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    En,
    Es,
    De,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Self::En, Self::Es, Self::De];

    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Es => "es",
            Self::De => "de",
        }
    }

    /// The language's name in itself, for language pickers.
    pub fn native_name(self) -> &'static str {
        match self {
            Self::En => "English",
            Self::Es => "Español",
            Self::De => "Deutsch",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        let code = code.trim().to_ascii_lowercase();
        let primary = code.split(['-', '_']).next().unwrap_or("");
        Self::ALL.into_iter().find(|l| l.code() == primary)
    }

    /// The best supported language of an `Accept-Language` header.
    pub fn from_accept_language(header: &str) -> Option<Self> {
        let mut ranked: Vec<(f32, Lang)> = header
            .split(',')
            .filter_map(|part| {
                let mut pieces = part.split(';');
                let lang = Lang::parse(pieces.next()?)?;
                let quality = pieces
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.parse::<f32>().ok())
                    .unwrap_or(1.0);
                Some((quality, lang))
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        ranked.first().map(|&(_, lang)| lang)
    }

    fn source(self) -> &'static str {
        match self {
            Self::En => include_str!("../locales/en.ftl"),
            Self::Es => include_str!("../locales/es.ftl"),
            Self::De => include_str!("../locales/de.ftl"),
        }
    }
}

/// Keyed with foldhash: SipHash's resistance to chosen keys buys nothing
/// for keys compiled into the binary, and a page looks up about ninety.
type Texts = HashMap<&'static str, &'static str, foldhash::fast::FixedState>;

/// One language: its Fluent bundle, and every message's text with its
/// variables shown as `{name}` — what `Tr::get` answers without formatting
/// (messages without variables are just their text).
struct Catalog {
    bundle: FluentBundle<FluentResource>,
    texts: Texts,
    /// Messages that choose a variant (plurals): formatted by Fluent; the
    /// rest only insert values, done on `texts` without it (cheaper: a page
    /// of fifty relative times formats fifty messages).
    selecting: std::collections::HashSet<&'static str, foldhash::fast::FixedState>,
}

/// Does the message choose between variants?
fn selects(pattern: &ast::Pattern<&str>) -> bool {
    pattern.elements.iter().any(|element| {
        matches!(
            element,
            ast::PatternElement::Placeable {
                expression: ast::Expression::Select { .. }
            }
        )
    })
}

/// The variables a message uses (selectors and every variant included).
fn variables(pattern: &ast::Pattern<&str>, found: &mut Vec<String>) {
    fn expression(e: &ast::Expression<&str>, found: &mut Vec<String>) {
        match e {
            ast::Expression::Inline(inline) => inline_expression(inline, found),
            ast::Expression::Select { selector, variants } => {
                inline_expression(selector, found);
                for variant in variants {
                    variables(&variant.value, found);
                }
            }
        }
    }
    fn inline_expression(e: &ast::InlineExpression<&str>, found: &mut Vec<String>) {
        match e {
            ast::InlineExpression::VariableReference { id }
                if !found.iter().any(|f| f == id.name) =>
            {
                found.push(id.name.to_string());
            }
            ast::InlineExpression::Placeable { expression: inner } => expression(inner, found),
            _ => {}
        }
    }
    for element in &pattern.elements {
        if let ast::PatternElement::Placeable { expression: e } = element {
            expression(e, found);
        }
    }
}

/// A message id as the code names it (`login.title`) from its Fluent id
/// (`login-title`: Fluent ids have no dots, and ours have no hyphens).
fn dotted(id: &str) -> String {
    id.replace('-', ".")
}

fn load(lang: Lang) -> Catalog {
    let resource = match FluentResource::try_new(lang.source().to_string()) {
        Ok(resource) => resource,
        Err((resource, errors)) => {
            tracing::error!(language = lang.code(), ?errors, "locale file has errors");
            resource
        }
    };
    let mut messages: Vec<(String, Vec<String>, bool)> = Vec::new();
    for entry in resource.entries() {
        if let ast::Entry::Message(message) = entry
            && let Some(pattern) = &message.value
        {
            let mut found = Vec::new();
            variables(pattern, &mut found);
            messages.push((message.id.name.to_string(), found, selects(pattern)));
        }
    }
    let id: LanguageIdentifier = lang.code().parse().unwrap_or_default();
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // Plain text: no Unicode isolation marks around filled-in values.
    bundle.set_use_isolating(false);
    if let Err(errors) = bundle.add_resource(resource) {
        tracing::error!(
            language = lang.code(),
            ?errors,
            "duplicate messages in locale file"
        );
    }
    let mut texts = Texts::default();
    let mut selecting = std::collections::HashSet::default();
    for (name, vars, select) in messages {
        let Some(pattern) = bundle.get_message(&name).and_then(|m| m.value()) else {
            continue;
        };
        let mut args = FluentArgs::new();
        for var in &vars {
            args.set(var.clone(), format!("{{{var}}}"));
        }
        let mut errors = Vec::new();
        let text = bundle
            .format_pattern(pattern, Some(&args), &mut errors)
            .into_owned();
        // Loaded once per language for the life of the process.
        let key: &'static str = Box::leak(dotted(&name).into_boxed_str());
        texts.insert(key, Box::leak(text.into_boxed_str()));
        if select {
            selecting.insert(key);
        }
    }
    Catalog {
        bundle,
        texts,
        selecting,
    }
}

fn catalog(lang: Lang) -> &'static Catalog {
    static CATALOGS: OnceLock<[Catalog; 3]> = OnceLock::new();
    let all = CATALOGS.get_or_init(|| Lang::ALL.map(load));
    &all[Lang::ALL.iter().position(|&l| l == lang).unwrap_or(0)]
}

/// Every key of a language, for the completeness test.
pub fn keys(lang: Lang) -> Vec<&'static str> {
    let mut keys: Vec<_> = catalog(lang).texts.keys().copied().collect();
    keys.sort_unstable();
    keys
}

/// A value for a Fluent variable: whole numbers as numbers, so that plural
/// rules (CLDR's, for the bundle's language) choose the variant.
fn value(text: &str) -> FluentValue<'_> {
    let digits = !text.is_empty()
        && text.len() < 16
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    match digits.then(|| text.parse::<i64>().ok()).flatten() {
        Some(n) => FluentValue::from(n),
        None => FluentValue::from(text),
    }
}

/// A translator bound to one language; templates call `t.get("key")`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn new(lang: Lang) -> Self {
        Self { lang }
    }

    /// The text for `key`; English when missing, the key itself as a last
    /// resort (the completeness test keeps that from happening).
    pub fn get(&self, key: &str) -> &'static str {
        catalog(self.lang)
            .texts
            .get(key)
            .or_else(|| catalog(Lang::En).texts.get(key))
            .copied()
            .unwrap_or_else(|| {
                tracing::warn!(key, "missing translation");
                "?"
            })
    }

    /// The message `key` with its variables filled in; a message that
    /// chooses a variant is formatted by Fluent, where whole numbers choose
    /// plural variants by the language's CLDR rules.
    pub fn fmt(&self, key: &str, args: &[(&str, &str)]) -> String {
        let chooses = [self.lang, Lang::En]
            .into_iter()
            .map(catalog)
            .find(|c| c.texts.contains_key(key))
            .is_some_and(|c| c.selecting.contains(key));
        if !chooses {
            // Only values to insert: the same text Fluent would make.
            return args
                .iter()
                .fold(self.get(key).to_string(), |text, (name, value)| {
                    text.replace(&format!("{{{name}}}"), value)
                });
        }
        let id = key.replace('.', "-");
        let bundle = [self.lang, Lang::En].into_iter().find_map(|lang| {
            let bundle = &catalog(lang).bundle;
            bundle
                .get_message(&id)
                .and_then(|m| m.value())
                .map(|pattern| (bundle, pattern))
        });
        let Some((bundle, pattern)) = bundle else {
            tracing::warn!(key, "missing translation");
            return "?".to_string();
        };
        let mut fluent_args = FluentArgs::new();
        for (name, text) in args {
            fluent_args.set(*name, value(text));
        }
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
        if !errors.is_empty() {
            tracing::warn!(key, ?errors, "translation arguments");
        }
        text.into_owned()
    }

    pub fn code(&self) -> &'static str {
        self.lang.code()
    }
}

/// Fluent keys of the months' short names, January first.
pub(crate) const MONTH_KEYS: [&str; 12] = [
    "month.1", "month.2", "month.3", "month.4", "month.5", "month.6", "month.7", "month.8",
    "month.9", "month.10", "month.11", "month.12",
];

/// A day in the reader's language: "30 Nov 2026", "30 nov 2026",
/// "30. Nov. 2026".
pub fn format_date(day: chrono::NaiveDate, t: Tr) -> String {
    use chrono::Datelike;
    format!("{} {}", day_and_month(day, t), day.year())
}

/// A day of the year in the reader's language: "30 Nov", "30 nov",
/// "30. Nov." (list times, chart axes).
pub fn day_and_month(day: chrono::NaiveDate, t: Tr) -> String {
    use chrono::Datelike;
    format!(
        "{:02}{} {}",
        day.day(),
        if t.lang == Lang::De { "." } else { "" },
        t.get(MONTH_KEYS[day.month0() as usize])
    )
}

/// A time in the reader's timezone and language, e.g. "22 Nov 2026, 18:40",
/// "22 nov 2026, 18:40", "22. Nov. 2026, 18:40" (written digit by digit: a
/// conversation page shows one per message).
pub fn format_datetime(at: chrono::NaiveDateTime, tz: chrono_tz::Tz, t: Tr) -> String {
    use chrono::{Datelike, Timelike};
    let local = at.and_utc().with_timezone(&tz).naive_local();
    let two = |text: &mut String, n: u32| {
        text.push(char::from(b'0' + (n / 10 % 10) as u8));
        text.push(char::from(b'0' + (n % 10) as u8));
    };
    let mut text = String::with_capacity(20);
    two(&mut text, local.day());
    if t.lang == Lang::De {
        text.push('.');
    }
    text.push(' ');
    text.push_str(t.get(MONTH_KEYS[local.month0() as usize]));
    text.push(' ');
    text.push_str(&local.year().to_string());
    text.push_str(", ");
    two(&mut text, local.hour());
    text.push(':');
    two(&mut text, local.minute());
    text
}
