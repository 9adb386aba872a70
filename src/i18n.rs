//! Translations: one `key = value` file per language in `locales/`, compiled
//! into the binary. A test fails when a locale lacks a key another one has.

use std::collections::HashMap;
use std::sync::OnceLock;

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
            Self::En => include_str!("../locales/en.txt"),
            Self::Es => include_str!("../locales/es.txt"),
            Self::De => include_str!("../locales/de.txt"),
        }
    }
}

/// Keyed with foldhash: SipHash's resistance to chosen keys buys nothing
/// for keys compiled into the binary, and a page looks up about ninety.
type Catalog = HashMap<&'static str, &'static str, foldhash::fast::FixedState>;

/// Parses a locale file: `key = value` lines, `#` comments, blank lines.
pub fn parse_catalog(source: &'static str) -> Catalog {
    source
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| (key.trim(), value.trim()))
        .collect()
}

fn catalog(lang: Lang) -> &'static Catalog {
    static CATALOGS: OnceLock<[Catalog; 3]> = OnceLock::new();
    let all = CATALOGS.get_or_init(|| Lang::ALL.map(|l| parse_catalog(l.source())));
    &all[Lang::ALL.iter().position(|&l| l == lang).unwrap_or(0)]
}

/// Every key of a language, for the completeness test.
pub fn keys(lang: Lang) -> Vec<&'static str> {
    let mut keys: Vec<_> = catalog(lang).keys().copied().collect();
    keys.sort_unstable();
    keys
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
            .get(key)
            .or_else(|| catalog(Lang::En).get(key))
            .copied()
            .unwrap_or_else(|| {
                tracing::warn!(key, "missing translation");
                "?"
            })
    }

    /// The text for `key` with `{name}` placeholders filled in.
    pub fn fmt(&self, key: &str, args: &[(&str, &str)]) -> String {
        args.iter()
            .fold(self.get(key).to_string(), |text, (name, value)| {
                text.replace(&format!("{{{name}}}"), value)
            })
    }

    pub fn code(&self) -> &'static str {
        self.lang.code()
    }
}
