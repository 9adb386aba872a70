//! What every page template shares (`Ctx`), display helpers, and the error
//! pages. Templates read precomputed facts from here; they never look at
//! roles or user types themselves.

pub use crate::i18n::{day_and_month, format_date, format_datetime};
use actix_session::SessionExt;
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpMessage, HttpRequest};
use askama::Template;
use chrono::NaiveDateTime;
use chrono_tz::Tz;

use crate::auth::{CurrentUser, csrf_token, visitor_lang};
use crate::error::ErrorKind;
use crate::i18n::{Lang, Tr};
use crate::policy::Permissions;
use crate::policy::UserType;

/// The signed-in user as the header shows them.
#[derive(Clone, Debug)]
pub struct Badge {
    pub name: String,
    pub initials: String,
    /// Collaborators' avatars carry a diagonal line everywhere.
    pub collaborator: bool,
}

impl Badge {
    /// A person's avatar: a team member's with their type (collaborators
    /// carry the diagonal line), a customer's with none.
    pub fn for_user(name: &str, user_type: Option<UserType>) -> Self {
        Self {
            name: name.to_string(),
            initials: initials(name),
            collaborator: user_type == Some(UserType::Collaborator),
        }
    }
}

pub fn initials(name: &str) -> String {
    let mut words = name.split_whitespace().filter_map(|w| w.chars().next());
    let first = words.next();
    let last = words.next_back();
    first
        .into_iter()
        .chain(last)
        .flat_map(char::to_uppercase)
        .collect()
}

/// Shared by every page template.
pub struct Ctx {
    pub t: Tr,
    pub csrf: String,
    pub org_name: String,
    pub user: Option<Badge>,
    pub perms: Permissions,
    /// Which navigation entry is current.
    pub nav: &'static str,
    pub unread: i64,
}

impl Ctx {
    pub fn for_user(current: &CurrentUser, nav: &'static str) -> Self {
        Self {
            t: current.tr,
            csrf: current.csrf.clone(),
            org_name: current.org.name.clone(),
            user: Some(Badge::for_user(
                &current.user.name,
                Some(current.actor.user_type),
            )),
            perms: current.perms.clone(),
            nav,
            unread: current.unread,
        }
    }

    /// For visitors who are not signed in (sign-in, setup, errors).
    pub fn for_visitor(req: &HttpRequest, org_name: String) -> Self {
        Self::anonymous(
            visitor_lang(req),
            csrf_token(&req.get_session()).unwrap_or_default(),
            org_name,
        )
    }

    pub fn anonymous(lang: Lang, csrf: String, org_name: String) -> Self {
        Self {
            t: Tr::new(lang),
            csrf,
            org_name,
            user: None,
            perms: Permissions::default(),
            nav: "",
            unread: 0,
        }
    }

    pub fn lang(&self) -> &'static str {
        self.t.code()
    }

    /// Fingerprint for static file links (see `assets::version`).
    pub fn asset_version(&self) -> &'static str {
        crate::assets::version()
    }

    pub fn is_current(&self, nav: &str) -> bool {
        self.nav == nav
    }

    /// Whether the page belongs to Settings (its navigation entry is current).
    pub fn in_settings(&self) -> bool {
        matches!(
            self.nav,
            "users" | "teams" | "roles" | "org" | "audit" | "outbox" | "email"
        )
    }
}

/// The day a UTC time falls on in the reader's timezone, in their language.
pub fn format_local_date(at: NaiveDateTime, tz: Tz, t: Tr) -> String {
    format_date(at.and_utc().with_timezone(&tz).date_naive(), t)
}

/// A list's time, as a glance wants it: "just now", "5 min", "3 h",
/// "yesterday", "4 d", then the date ("05 Mar"; with the year when not
/// this one), in the reader's timezone and language. The exact time goes
/// beside it (`format_datetime`, shown on hover).
pub fn relative_time(at: NaiveDateTime, now: NaiveDateTime, tz: Tz, t: Tr) -> String {
    use chrono::Datelike;
    let minutes = (now - at).num_minutes();
    let count = |key: &str, n: i64| t.fmt(key, &[("n", &n.to_string())]);
    match minutes {
        ..=0 => return t.get("time.just_now").to_string(),
        1..=59 => return count("time.minutes", minutes),
        _ => {}
    }
    // Older than an hour: the reader's calendar decides (a list shows
    // dozens of these, so each time is converted once).
    let local = |time: NaiveDateTime| time.and_utc().with_timezone(&tz).date_naive();
    let (then, today) = (local(at), local(now));
    match (today - then).num_days() {
        ..=0 => count("time.hours", minutes / 60),
        1 => t.get("time.yesterday").to_string(),
        days @ 2..=6 => count("time.days", days),
        _ => {
            let mut text = day_and_month(then, t);
            if then.year() != today.year() {
                text.push_str(&format!(" {}", then.year()));
            }
            text
        }
    }
}

/// How long a customer has been waiting, e.g. "Waiting 3 h": minutes,
/// then hours, then days.
pub fn waiting_for(since: NaiveDateTime, now: NaiveDateTime, t: Tr) -> String {
    let minutes = (now - since).num_minutes();
    let count = |key: &str, n: i64| t.fmt(key, &[("n", &n.to_string())]);
    let time = match minutes {
        ..=59 => count("time.minutes", minutes.max(1)),
        60..=1439 => count("time.hours", minutes / 60),
        _ => count("time.days", minutes / 1440),
    };
    t.fmt("conversations.waiting", &[("time", &time)])
}

/// A UTC time as RFC 3339 for `<time datetime>`, e.g.
/// "2026-12-05T10:07:00Z" (digit by digit: a list writes fifty).
pub fn iso_utc(at: NaiveDateTime) -> String {
    use chrono::{Datelike, Timelike};
    let mut text = String::with_capacity(20);
    let digits = |text: &mut String, n: u32, width: u32| {
        for place in (0..width).rev() {
            text.push(char::from(b'0' + (n / 10u32.pow(place) % 10) as u8));
        }
    };
    digits(&mut text, at.year().max(0) as u32, 4);
    text.push('-');
    digits(&mut text, at.month(), 2);
    text.push('-');
    digits(&mut text, at.day(), 2);
    text.push('T');
    digits(&mut text, at.hour(), 2);
    text.push(':');
    digits(&mut text, at.minute(), 2);
    text.push(':');
    digits(&mut text, at.second(), 2);
    text.push('Z');
    text
}

/// One region of a timezone picker (`<optgroup>`).
pub struct TimezoneGroup {
    pub region: &'static str,
    pub zones: Vec<TimezoneChoice>,
}

/// A timezone as a picker offers it: its IANA name as the value, the place
/// and its current UTC offset as the label ("Berlin (UTC+01:00)").
pub struct TimezoneChoice {
    pub name: &'static str,
    pub label: String,
}

/// The regions a picker lists; other IANA names (`CST6CDT`, `GB-Eire`,
/// `US/Eastern`, `Etc/GMT+5`, `Zulu`…) are legacy aliases or offsets
/// without a place, still accepted but not offered.
const TIMEZONE_REGIONS: [&str; 10] = [
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
];

/// The timezone picker's choices, grouped by region, with the offsets in
/// force at `now`: UTC first, then places by region and name. `selected`
/// (a saved legacy name) is offered too, so that saving a form keeps it.
pub fn timezone_choices(selected: &str, now: NaiveDateTime) -> Vec<TimezoneGroup> {
    use chrono::{Offset, TimeZone};
    let choice = |tz: &Tz, place: String| {
        let seconds = tz.offset_from_utc_datetime(&now).fix().local_minus_utc();
        let sign = if seconds < 0 { '-' } else { '+' };
        let minutes = seconds.abs() / 60;
        TimezoneChoice {
            name: tz.name(),
            label: format!("{place} (UTC{sign}{:02}:{:02})", minutes / 60, minutes % 60),
        }
    };
    let mut groups = vec![TimezoneGroup {
        region: "UTC",
        zones: vec![choice(&Tz::UTC, "UTC".into())],
    }];
    groups.extend(TIMEZONE_REGIONS.iter().map(|&region| TimezoneGroup {
        region,
        zones: Vec::new(),
    }));
    let mut offered = false;
    for tz in chrono_tz::TZ_VARIANTS.iter() {
        let Some((region, place)) = tz.name().split_once('/') else {
            continue;
        };
        if let Some(group) = groups.iter_mut().skip(1).find(|g| g.region == region) {
            offered |= tz.name() == selected;
            group
                .zones
                .push(choice(tz, place.replace('_', " ").replace('/', " / ")));
        }
    }
    if !offered
        && selected != "UTC"
        && let Ok(tz) = selected.parse::<Tz>()
    {
        groups.insert(
            1,
            TimezoneGroup {
                region: "—",
                zones: vec![choice(&tz, tz.name().to_string())],
            },
        );
    }
    groups
}

#[derive(Template)]
#[template(path = "pages/error.html")]
struct ErrorPage {
    ctx: Ctx,
    title: &'static str,
    message: String,
    status: u16,
}

/// Renders the 403/404/500 (and any other error status) page in the
/// reader's language. Responses that already carry a body are left alone.
pub fn render_error_page<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    // actix's own extractor errors come as bare text/plain: they get the page too.
    let has_body = res
        .response()
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|ct| !ct.as_bytes().starts_with(b"text/plain"));
    let status = res.status();
    if has_body || !(status.is_client_error() || status.is_server_error()) {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let kind = res
        .response()
        .extensions()
        .get::<ErrorKind>()
        .copied()
        .unwrap_or(match status.as_u16() {
            400 => ErrorKind::BadRequest,
            403 => ErrorKind::Forbidden,
            405 => ErrorKind::MethodNotAllowed,
            413 => ErrorKind::TooLarge {
                limit_kib: crate::input::MAX_FORM_BYTES / 1024,
            },
            500.. => ErrorKind::Internal,
            _ => ErrorKind::NotFound,
        });
    let (title, message) = match kind {
        ErrorKind::NotFound => ("error.not_found.title", "error.not_found.message"),
        ErrorKind::Forbidden => ("error.forbidden.title", "error.forbidden.message"),
        ErrorKind::Csrf => ("error.csrf.title", "error.csrf.message"),
        ErrorKind::BadRequest => ("error.bad_request.title", "error.bad_request.message"),
        ErrorKind::MethodNotAllowed => ("error.method.title", "error.method.message"),
        ErrorKind::TooLarge { .. } => ("error.too_large.title", "error.too_large.message"),
        ErrorKind::SearchTooLong { .. } => (
            "error.search_too_long.title",
            "error.search_too_long.message",
        ),
        ErrorKind::Internal => ("error.internal.title", "error.internal.message"),
    };
    let (req, res) = res.into_parts();
    let signed_in = req.extensions_mut().remove::<crate::auth::SignedIn>();
    let ctx = match signed_in {
        Some(reader) => Ctx {
            t: reader.tr,
            csrf: reader.csrf,
            org_name: reader.org_name,
            user: Some(Badge::for_user(&reader.name, Some(reader.user_type))),
            perms: reader.perms,
            nav: "",
            unread: reader.unread,
        },
        None => Ctx::anonymous(visitor_lang(&req), String::new(), "Confer".into()),
    };
    let title = ctx.t.get(title);
    let message = match kind {
        ErrorKind::TooLarge { limit_kib } => ctx
            .t
            .fmt(message, &[("limit", &format!("{limit_kib} KiB"))]),
        ErrorKind::SearchTooLong { max } => ctx.t.fmt(message, &[("max", &max.to_string())]),
        _ => ctx.t.get(message).to_string(),
    };
    let page = ErrorPage {
        ctx,
        title,
        message,
        status: status.as_u16(),
    };
    let body = page.render().unwrap_or_else(|_| title.to_string());
    let mut res = res.set_body(body).map_into_boxed_body();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, res).map_into_right_body(),
    ))
}

/// Room reserved for a rendered page: a workspace page is 10–40 KB, and
/// growing a string from askama's estimate copied it half a dozen times.
const PAGE_CAPACITY: usize = 32 * 1024;

/// Renders a page with a status other than 200 (a form with errors is 422,
/// a refused sign-in 401, and so on).
pub fn html_with_status<T: Template>(
    page: &T,
    status: actix_web::http::StatusCode,
) -> Result<actix_web::HttpResponse, crate::error::AppError> {
    let mut body = String::with_capacity(PAGE_CAPACITY.max(T::SIZE_HINT));
    page.render_into(&mut body)?;
    Ok(actix_web::HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

/// A policy rule in words, for the effective-permissions page.
pub fn explain_rule(rule: &crate::policy::Rule, t: Tr) -> String {
    use crate::policy::Rule;
    match rule {
        Rule::CollaboratorCapability(_) => t.get("rule.collaborator_may").into(),
        Rule::CollaboratorNever => t.get("rule.collaborator_never").into(),
        Rule::RoleHasFlag { role, .. } => t.fmt("rule.role_has", &[("role", &role_name(role, t))]),
        Rule::RoleLacksFlag { role, .. } => {
            t.fmt("rule.role_lacks", &[("role", &role_name(role, t))])
        }
        Rule::NoRole => t.get("rule.no_role").into(),
        Rule::OwnerOnly => t.get("rule.owner_only").into(),
        Rule::Via(flag) => t.fmt("rule.via", &[("permission", t.get(flag.key()))]),
        Rule::NoneOf => t.get("rule.none_of").into(),
    }
}

/// Built-in role keys become their translated names; custom names stay.
fn role_name(role: &str, t: Tr) -> String {
    match crate::policy::BuiltinRole::parse(role) {
        Some(builtin) => t.get(&format!("role.{}", builtin.key())).into(),
        None => role.into(),
    }
}

pub fn explain_scope(rule: &crate::policy::ScopeRule, t: Tr) -> String {
    use crate::policy::ScopeRule;
    t.get(match rule {
        ScopeRule::AllConversations => "rule.scope.all",
        ScopeRule::AccessSetToTeams => "rule.scope.access_teams",
        ScopeRule::RoleViewsTeamsOnly => "rule.scope.role_teams",
        ScopeRule::NoViewPermission => "rule.scope.none",
    })
    .into()
}
