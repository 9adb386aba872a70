//! User-written text: Markdown rendered to HTML, then sanitized — no
//! script, no event handlers, no styles; links open safely.

use pulldown_cmark::{Options, Parser, html};

pub fn render(text: &str) -> String {
    let mut unsafe_html = String::new();
    html::push_html(
        &mut unsafe_html,
        Parser::new_ext(text, Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES),
    );
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer"))
        .url_schemes(["http", "https", "mailto"].into())
        .clean(&unsafe_html)
        .to_string()
}
