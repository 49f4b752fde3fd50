//! The database examples of the contract: their answers are random rows, so they are checked by
//! shape (a World object, an array of N of them, an HTML table of fortunes compared after parsing
//! and unescaping, never as bytes) and by what they cost the database, from its own counters.
//!
//! Reading the counters is the caller's (the supervisor's `Database::counters`), handed in as a
//! [`CountersProbe`]; judging them is the model's `DbCounters::judge`.

use std::time::Duration;

use claimbench_model::contract::{DbExpect, DbShape};
use claimbench_model::database::DbCounters;
use serde_json::Value;

/// Reads the database's statement counters now; `None` when they cannot be read.
pub type CountersProbe<'a> = &'a dyn Fn() -> Option<DbCounters>;

/// The counters are written when a statement ends, which may be a moment after the answer left:
/// re-read them this often, this many times, before calling a shortfall.
const SETTLE_POLL: Duration = Duration::from_millis(25);
const SETTLE_TRIES: u32 = 40;

/// Checks an answer's shape against `expect`.
pub(crate) fn check_shape(bytes: &[u8], expect: &DbExpect, failures: &mut Vec<String>) {
    match expect.shape {
        DbShape::World => match serde_json::from_slice::<Value>(bytes) {
            Ok(value) => failures.extend(world_problem(&value)),
            Err(_) => failures.push(format!("body: expected a World object, got {}", preview(bytes))),
        },
        DbShape::Worlds => match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Array(items)) => {
                if let Some(rows) = expect.rows {
                    if items.len() as u64 != rows {
                        failures.push(format!("body: expected {rows} World objects, got {}", items.len()));
                    }
                }
                failures.extend(items.iter().filter_map(world_problem).take(3));
            }
            _ => failures.push(format!("body: expected a JSON array of World objects, got {}", preview(bytes))),
        },
        DbShape::Fortunes => {
            let text = String::from_utf8_lossy(bytes);
            if text.contains("<script>") {
                failures.push("body: the <script> fortune is not HTML-escaped".into());
            }
            match fortune_rows(&text) {
                Ok(rows) if rows == expect.fortunes => {}
                Ok(rows) => failures.push(format!(
                    "fortunes: expected {} rows {:?}…, got {} rows {:?}…",
                    expect.fortunes.len(),
                    expect.fortunes.first(),
                    rows.len(),
                    rows.first()
                )),
                Err(why) => failures.push(format!("fortunes: {why}")),
            }
        }
    }
}

/// Waits for the counters since `before` to show `expect`'s work for one answer (`bytes`); a
/// failure line when they never do. An id drawn twice in one request is written once, so the
/// rows an update must write are the distinct ids of its answer.
pub(crate) fn check_counters(
    probe: CountersProbe<'_>,
    before: Option<DbCounters>,
    expect: &DbExpect,
    bytes: &[u8],
    failures: &mut Vec<String>,
) {
    let mut work = expect.work;
    if work.world_updated_rows > 0 {
        if let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(bytes) {
            let ids: std::collections::BTreeSet<i64> =
                items.iter().filter_map(|w| w.get("id").and_then(Value::as_i64)).collect();
            work.world_updated_rows = work.world_updated_rows.min(ids.len() as u64);
        }
    }
    let Some(before) = before else {
        failures.push("could not read the database counters (pg_stat_statements) before the request".into());
        return;
    };
    let mut verdict = Err("could not read the database counters (pg_stat_statements)".to_string());
    for _ in 0..SETTLE_TRIES {
        if let Some(after) = probe() {
            let delta = after.since(&before);
            verdict = delta.judge(&work, 1);
            // More work than one answer needs will not shrink by waiting.
            if verdict.is_ok() || delta.world_selects > work.world_selects {
                break;
            }
        }
        std::thread::sleep(SETTLE_POLL);
    }
    if let Err(why) = verdict {
        failures.push(format!("database counters: {why}"));
    }
}

/// What is wrong with one `{"id", "randomNumber"}` object, if anything.
fn world_problem(value: &Value) -> Option<String> {
    let in_range = |key: &str| value.get(key).and_then(Value::as_i64).is_some_and(|n| (1..=10_000).contains(&n));
    let keys_ok = value.as_object().is_some_and(|o| o.len() == 2);
    (!(keys_ok && in_range("id") && in_range("randomNumber")))
        .then(|| format!("body: expected {{\"id\": 1..=10000, \"randomNumber\": 1..=10000}}, got {value}"))
}

/// The `(id, message)` rows of a fortunes table, unescaped; the header row must be id, message.
pub fn fortune_rows(html: &str) -> Result<Vec<(i64, String)>, String> {
    let start = html.find("<table>").ok_or("no <table> in the page")?;
    let end = html[start..].find("</table>").map(|e| start + e).ok_or("the <table> is not closed")?;
    let mut rows = Vec::new();
    let mut header_seen = false;
    for row in html[start..end].split("<tr>").skip(1) {
        let row = row.split("</tr>").next().unwrap_or(row);
        if !header_seen {
            let cells = cells(row, "th");
            if cells != ["id", "message"] {
                return Err(format!("the header row is {cells:?}, expected [\"id\", \"message\"]"));
            }
            header_seen = true;
            continue;
        }
        let cells = cells(row, "td");
        let [id, message] = &cells[..] else {
            return Err(format!("a row has {} cells, expected 2: {row:?}", cells.len()));
        };
        let id = id.trim().parse().map_err(|_| format!("the id cell {id:?} is not an integer"))?;
        rows.push((id, unescape(message)));
    }
    Ok(rows)
}

fn cells(row: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    row.split(open.as_str()).skip(1).map(|cell| cell.split(close.as_str()).next().unwrap_or(cell).to_string()).collect()
}

/// Decodes the entities an HTML escaper writes: the five named ones and numeric references.
pub fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let decoded = rest.find(';').filter(|&semi| semi <= 10).and_then(|semi| {
            let entity = &rest[1..semi];
            let ch = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                    .map(|hex| u32::from_str_radix(hex, 16))
                    .or_else(|| entity.strip_prefix('#').map(str::parse::<u32>))
                    .and_then(Result::ok)
                    .and_then(char::from_u32),
            }?;
            Some((ch, semi + 1))
        });
        match decoded {
            Some((ch, len)) => {
                out.push(ch);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn preview(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let cut: String = text.chars().take(120).collect();
    format!("{cut:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_correct_escaping_unescapes_to_the_same_text() {
        assert_eq!(
            unescape("&lt;script&gt;alert(&quot;x&quot;);&lt;&#x2F;script&gt;"),
            "<script>alert(\"x\");</script>"
        );
        assert_eq!(unescape("&#60;b&#62; &amp; &#39;q&#x27;"), "<b> & 'q'");
        assert_eq!(unescape("a & b &unknown; &#xZZ;"), "a & b &unknown; &#xZZ;");
    }

    #[test]
    fn a_fortunes_table_parses_into_rows_and_a_bad_header_is_named() {
        let html = "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>\
            <tr><th>id</th><th>message</th></tr><tr><td>11</td><td>&lt;script&gt;</td></tr>\
            <tr><td>12</td><td>フレームワーク</td></tr></table></body></html>";
        assert_eq!(fortune_rows(html).unwrap(), vec![(11, "<script>".to_string()), (12, "フレームワーク".to_string())]);
        let bad = html.replace("<th>id</th>", "<th>n</th>");
        assert!(fortune_rows(&bad).unwrap_err().contains("header row"));
        assert!(fortune_rows("<p>no table</p>").is_err());
    }

    #[test]
    fn an_unescaped_script_and_a_wrong_world_are_failures() {
        let expect = DbExpect { shape: DbShape::Fortunes, ..DbExpect::default() };
        let mut failures = Vec::new();
        check_shape(
            b"<table><tr><th>id</th><th>message</th></tr><tr><td>1</td><td><script></td></tr></table>",
            &expect,
            &mut failures,
        );
        assert!(failures.iter().any(|f| f.contains("not HTML-escaped")), "{failures:?}");
        let worlds = DbExpect { shape: DbShape::Worlds, rows: Some(2), ..DbExpect::default() };
        let mut failures = Vec::new();
        check_shape(br#"[{"id":1,"randomNumber":10001}]"#, &worlds, &mut failures);
        assert_eq!(failures.len(), 2, "{failures:?}");
        let mut failures = Vec::new();
        check_shape(br#"[{"id":1,"randomNumber":5},{"id":10000,"randomNumber":1}]"#, &worlds, &mut failures);
        assert!(failures.is_empty(), "{failures:?}");
    }
}
