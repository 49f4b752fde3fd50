//! The HTML page: the view rendered through the embedded minijinja template and stylesheet.
//!
//! The template and CSS are compiled into the binary, so a report renders anywhere and the page
//! needs nothing but itself: no scripts, no fonts, no network. HTML escaping is on for every
//! value; only the SVG charts are inserted as markup.

use minijinja::{context, Environment, UndefinedBehavior, Value};

use crate::error::ReportError;
use crate::view::Report;

const TEMPLATE: &str = include_str!("../templates/report.html.j2");
const STYLESHEET: &str = include_str!("../templates/report.css");

/// Renders the page from a view whose charts are attached.
pub fn render(report: &Report) -> Result<String, ReportError> {
    let mut env = Environment::new();
    // A misspelt field must fail the tests, not render as an empty cell.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.add_filter("code", inline_code);
    env.add_template("report.html.j2", TEMPLATE)?;
    let html = env.get_template("report.html.j2")?.render(context! { r => report, css => STYLESHEET })?;
    Ok(html)
}

/// Escapes text and turns `backticked` spans (as claims and experiments are written) into
/// `<code>`.
fn inline_code(text: String) -> Value {
    let mut out = String::with_capacity(text.len() + 16);
    for (i, part) in text.split('`').enumerate() {
        let escaped = escape(part);
        // Odd parts sit between backticks; a lone trailing backtick leaves the rest as text.
        if i % 2 == 1 && text.matches('`').count() > i {
            out.push_str("<code>");
            out.push_str(&escaped);
            out.push_str("</code>");
        } else {
            if i % 2 == 1 {
                out.push('`');
            }
            out.push_str(&escaped);
        }
    }
    Value::from_safe_string(out)
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backticks_become_code_and_the_rest_is_escaped() {
        let html = inline_code("`/io/upstream?ms=20` & <b>".to_string());
        assert_eq!(html.to_string(), "<code>/io/upstream?ms=20</code> &amp; &lt;b&gt;");
    }

    #[test]
    fn an_unpaired_backtick_stays_text() {
        assert_eq!(inline_code("a `b".to_string()).to_string(), "a `b");
    }
}
