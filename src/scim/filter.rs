//! SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2), parsed into a
//! tree and evaluated over a resource's JSON representation. Evaluating the
//! representation itself (instead of translating to SQL) keeps one meaning
//! for every attribute the resource shows; an organisation's few thousand
//! users fit in memory.

use serde_json::Value;

/// `[schema:]attr[.sub]`, e.g. `name.givenName` or
/// `urn:ietf:params:scim:schemas:extension:confer:2.0:User:role`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttrPath {
    pub schema: Option<String>,
    pub attr: String,
    pub sub: Option<String>,
}

impl AttrPath {
    /// Whether this names `attr` (and `sub`), ignoring case as SCIM does.
    pub fn is(&self, attr: &str, sub: Option<&str>) -> bool {
        self.attr.eq_ignore_ascii_case(attr)
            && match (&self.sub, sub) {
                (None, None) => true,
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                _ => false,
            }
    }

    /// `id` and `externalId` compare case-exactly (RFC 7643 §3.1); every
    /// other string attribute Confer shows does not.
    fn case_exact(&self) -> bool {
        self.sub.is_none() && (self.is("id", None) || self.is("externalId", None))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    fn parse(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "eq" => Self::Eq,
            "ne" => Self::Ne,
            "co" => Self::Co,
            "sw" => Self::Sw,
            "ew" => Self::Ew,
            "gt" => Self::Gt,
            "ge" => Self::Ge,
            "lt" => Self::Lt,
            "le" => Self::Le,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Present(AttrPath),
    Compare(AttrPath, CompareOp, Value),
    /// `emails[type eq "work"]`: some value of a multi-valued attribute
    /// matches the inner filter, whose paths are relative to that value.
    Has(AttrPath, Box<Filter>),
}

/// A PATCH operation's `path`: `attr`, `attr.sub`, `attr[filter]` or
/// `attr[filter].sub`.
#[derive(Clone, Debug, PartialEq)]
pub struct PatchPath {
    pub attr: AttrPath,
    pub filter: Option<Filter>,
}

/// Why a filter or path could not be read (the SCIM error's detail).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError(pub String);

type Parsed<T> = Result<T, ParseError>;

fn fail<T>(message: impl Into<String>) -> Parsed<T> {
    Err(ParseError(message.into()))
}

/// Deeper nesting than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 32;

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    Word(String),
    Str(String),
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '_' | '-' | '$' | '+')
}

fn tokenize(text: &str) -> Parsed<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | '[' | ']' => {
                chars.next();
                tokens.push(match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    '[' => Token::OpenBracket,
                    _ => Token::CloseBracket,
                });
            }
            '"' => {
                chars.next();
                let mut escaped = false;
                let mut end = None;
                for (i, c) in chars.by_ref() {
                    match (escaped, c) {
                        (true, _) => escaped = false,
                        (false, '\\') => escaped = true,
                        (false, '"') => {
                            end = Some(i);
                            break;
                        }
                        _ => {}
                    }
                }
                let Some(end) = end else {
                    return fail("a string is not closed");
                };
                match serde_json::from_str::<String>(&text[start..=end]) {
                    Ok(s) => tokens.push(Token::Str(s)),
                    Err(_) => return fail("a string has an invalid escape"),
                }
            }
            c if is_word_char(c) => {
                let mut end = start;
                while let Some(&(i, c)) = chars.peek() {
                    if !is_word_char(c) {
                        break;
                    }
                    end = i + c.len_utf8();
                    chars.next();
                }
                tokens.push(Token::Word(text[start..end].to_string()));
            }
            other => return fail(format!("unexpected character `{other}`")),
        }
    }
    Ok(tokens)
}

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '$'))
}

fn attr_path(word: &str) -> Parsed<AttrPath> {
    // A schema URN contains dots (`2.0`), so it is split off at its last colon first.
    let (schema, rest) = match word.rfind(':') {
        Some(i) if word.len() > 4 && word[..4].eq_ignore_ascii_case("urn:") => {
            (Some(word[..i].to_string()), &word[i + 1..])
        }
        _ => (None, word),
    };
    let (attr, sub) = match rest.split_once('.') {
        Some((attr, sub)) => (attr, Some(sub)),
        None => (rest, None),
    };
    if !is_name(attr) || sub.is_some_and(|s| !is_name(s)) {
        return fail(format!("`{word}` is not an attribute path"));
    }
    Ok(AttrPath {
        schema,
        attr: attr.to_string(),
        sub: sub.map(str::to_string),
    })
}

fn literal(token: Option<Token>) -> Parsed<Value> {
    match token {
        Some(Token::Str(s)) => Ok(Value::String(s)),
        Some(Token::Word(w)) => match w.to_ascii_lowercase().as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            "null" => Ok(Value::Null),
            _ => match serde_json::from_str::<serde_json::Number>(&w) {
                Ok(n) => Ok(Value::Number(n)),
                Err(_) => fail(format!(
                    "`{w}` is not a value (strings are in double quotes)"
                )),
            },
        },
        _ => fail("a comparison has no value"),
    }
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn require(&mut self, token: Token, what: &str) -> Parsed<()> {
        if self.next() == Some(token) {
            Ok(())
        } else {
            fail(format!("expected {what}"))
        }
    }

    fn or(&mut self) -> Parsed<Filter> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return fail("the filter is nested too deeply");
        }
        let mut left = self.and()?;
        while self.keyword("or") {
            self.next();
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        self.depth -= 1;
        Ok(left)
    }

    fn and(&mut self) -> Parsed<Filter> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.next();
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Parsed<Filter> {
        if self.keyword("not") {
            self.next();
            self.require(Token::Open, "`(` after `not`")?;
            let inner = self.or()?;
            self.require(Token::Close, "`)`")?;
            return Ok(Filter::Not(Box::new(inner)));
        }
        match self.next() {
            Some(Token::Open) => {
                let inner = self.or()?;
                self.require(Token::Close, "`)`")?;
                Ok(inner)
            }
            Some(Token::Word(word)) => {
                let path = attr_path(&word)?;
                if self.peek() == Some(&Token::OpenBracket) {
                    self.value_path(path)
                } else {
                    self.comparison(path)
                }
            }
            _ => fail("expected an attribute, `(` or `not`"),
        }
    }

    /// `attr[filter]`, optionally followed by `.sub op value` (read as
    /// `attr[filter and sub op value]`).
    fn value_path(&mut self, path: AttrPath) -> Parsed<Filter> {
        let inner = self.bracket()?;
        match self.peek() {
            Some(Token::Word(w)) if w.starts_with('.') => {
                let sub = attr_path(&w[1..])?;
                self.next();
                let then = self.comparison(sub)?;
                Ok(Filter::Has(
                    path,
                    Box::new(Filter::And(Box::new(inner), Box::new(then))),
                ))
            }
            _ => Ok(Filter::Has(path, Box::new(inner))),
        }
    }

    fn bracket(&mut self) -> Parsed<Filter> {
        self.require(Token::OpenBracket, "`[`")?;
        let inner = self.or()?;
        self.require(Token::CloseBracket, "`]`")?;
        Ok(inner)
    }

    fn comparison(&mut self, path: AttrPath) -> Parsed<Filter> {
        let Some(Token::Word(op)) = self.next() else {
            return fail(format!("`{}` needs an operator", path.attr));
        };
        if op.eq_ignore_ascii_case("pr") {
            return Ok(Filter::Present(path));
        }
        let Some(op) = CompareOp::parse(&op) else {
            return fail(format!("`{op}` is not an operator"));
        };
        let value = literal(self.next())?;
        Ok(Filter::Compare(path, op, value))
    }

    fn end(&self) -> Parsed<()> {
        match self.peek() {
            None => Ok(()),
            Some(token) => fail(format!("unexpected {token:?} after the end")),
        }
    }
}

/// Parses a `filter` query parameter.
pub fn parse(text: &str) -> Result<Filter, ParseError> {
    let mut parser = Parser {
        tokens: tokenize(text)?,
        at: 0,
        depth: 0,
    };
    if parser.tokens.is_empty() {
        return fail("the filter is empty");
    }
    let filter = parser.or()?;
    parser.end()?;
    Ok(filter)
}

/// Parses a PATCH operation's `path`.
pub fn parse_path(text: &str) -> Result<PatchPath, ParseError> {
    let mut parser = Parser {
        tokens: tokenize(text)?,
        at: 0,
        depth: 0,
    };
    let Some(Token::Word(word)) = parser.next() else {
        return fail(format!("`{text}` is not a path"));
    };
    let mut attr = attr_path(&word)?;
    let mut filter = None;
    if parser.peek() == Some(&Token::OpenBracket) {
        if attr.sub.is_some() {
            return fail(format!("`{text}` filters a sub-attribute"));
        }
        filter = Some(parser.bracket()?);
        if let Some(Token::Word(w)) = parser.peek()
            && let Some(sub) = w.strip_prefix('.')
        {
            if !is_name(sub) {
                return fail(format!("`{sub}` is not an attribute name"));
            }
            attr.sub = Some(sub.to_string());
            parser.next();
        }
    }
    parser.end()?;
    Ok(PatchPath { attr, filter })
}

/// `map[key]` with the key matched case-insensitively.
pub fn get_ci<'a>(map: &'a Value, key: &str) -> Option<&'a Value> {
    map.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

fn flatten(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// The values `path` names in `resource`; an extension's attributes are
/// under the key of its schema URN.
fn resolve<'a>(resource: &'a Value, path: &AttrPath) -> Vec<&'a Value> {
    let base = path
        .schema
        .as_deref()
        .and_then(|schema| get_ci(resource, schema))
        .unwrap_or(resource);
    let values = get_ci(base, &path.attr).map(flatten).unwrap_or_default();
    match &path.sub {
        Some(sub) => values
            .into_iter()
            .filter_map(|v| get_ci(v, sub))
            .flat_map(flatten)
            .collect(),
        None => values,
    }
}

fn fold(text: &str, exact: bool) -> String {
    if exact {
        text.to_string()
    } else {
        text.to_lowercase()
    }
}

fn compare(actual: &Value, op: CompareOp, expected: &Value, exact: bool) -> bool {
    use std::cmp::Ordering;
    // A complex value (`emails`) compares by its `value`.
    let actual = get_ci(actual, "value").unwrap_or(actual);
    let ordering = match (actual, expected) {
        (Value::String(a), Value::String(b)) => {
            let (a, b) = (fold(a, exact), fold(b, exact));
            match op {
                CompareOp::Co => return a.contains(&b),
                CompareOp::Sw => return a.starts_with(&b),
                CompareOp::Ew => return a.ends_with(&b),
                _ => a.cmp(&b),
            }
        }
        (Value::Bool(a), Value::Bool(b)) => {
            return match op {
                CompareOp::Eq => a == b,
                CompareOp::Ne => a != b,
                _ => false,
            };
        }
        (Value::Number(a), Value::Number(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(a), Some(b)) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
            _ => return false,
        },
        _ => return false,
    };
    match op {
        CompareOp::Eq => ordering == Ordering::Equal,
        CompareOp::Ne => ordering != Ordering::Equal,
        CompareOp::Gt => ordering == Ordering::Greater,
        CompareOp::Ge => ordering != Ordering::Less,
        CompareOp::Lt => ordering == Ordering::Less,
        CompareOp::Le => ordering != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

fn present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
        _ => true,
    }
}

impl Filter {
    /// Whether `resource` (a SCIM representation) matches. A multi-valued
    /// attribute matches when any of its values does; `ne` is the negation
    /// of `eq`, so it matches a resource without the attribute.
    pub fn matches(&self, resource: &Value) -> bool {
        match self {
            Self::And(a, b) => a.matches(resource) && b.matches(resource),
            Self::Or(a, b) => a.matches(resource) || b.matches(resource),
            Self::Not(inner) => !inner.matches(resource),
            Self::Present(path) => resolve(resource, path).into_iter().any(present),
            Self::Compare(path, CompareOp::Ne, expected) => {
                !Self::Compare(path.clone(), CompareOp::Eq, expected.clone()).matches(resource)
            }
            Self::Compare(path, op, Value::Null) => {
                let has = resolve(resource, path).into_iter().any(present);
                *op == CompareOp::Eq && !has
            }
            Self::Compare(path, op, expected) => {
                let exact = path.case_exact();
                resolve(resource, path)
                    .into_iter()
                    .any(|actual| compare(actual, *op, expected, exact))
            }
            Self::Has(path, inner) => resolve(resource, path)
                .into_iter()
                .any(|value| inner.matches(value)),
        }
    }
}
