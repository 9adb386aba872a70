//! User-written text: Markdown rendered to HTML, then sanitized — no
//! script, no event handlers, no styles; links open safely. The sanitizer's
//! policy is built once for the process, not per message.

use std::sync::LazyLock;

use pulldown_cmark::{Options, Parser, html};

/// The one sanitizer policy (ammonia's defaults, safe link targets).
static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder
        .link_rel(Some("noopener noreferrer"))
        .url_schemes(["http", "https", "mailto"].into());
    builder
});

pub fn render(text: &str) -> String {
    let mut unsafe_html = String::new();
    html::push_html(
        &mut unsafe_html,
        Parser::new_ext(text, Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES),
    );
    SANITIZER.clean(&unsafe_html).to_string()
}
