//! The server-sent-event examples of the contract (`sse_examples`): subscribes, reads the asked
//! number of events and checks the stream's headers, each event's framing (`id:`, a `data:` line
//! of the asked size, a blank line), its JSON (`seq` equal to the id, `sent_us` recent, the
//! padding), that the ids are consecutive, and that no event arrives stale (a server that
//! buffers its events shows as old timestamps). Knows nothing of how the stacks tick.

use std::io::{BufRead, BufReader};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use claimbench_model::contract::{Endpoint, SseExample};
use serde_json::Value;

/// The oldest an event may be when it arrives: the server and this check share one clock, and
/// a tick that waited this long behind others was not pushed.
const MAX_AGE: Duration = Duration::from_millis(500);
/// How far in the future a `sent_us` may lie (one clock, read at microsecond resolution).
const CLOCK_SLACK_US: i64 = 50_000;

/// Runs one subscription and returns its failures (empty when it passed).
pub fn check_sse_example(
    client: &reqwest::blocking::Client,
    base_url: &str,
    endpoint: &Endpoint,
    example: &SseExample,
) -> Vec<String> {
    let query = example.query.as_deref().unwrap_or("");
    let param = |name: &str| -> Option<i64> {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
            .or_else(|| endpoint.params.iter().find(|p| p.name == name).and_then(|p| p.default))
    };
    let (Some(_), Some(size)) = (param("hz"), param("bytes")) else {
        return vec![format!("example '{}' gives no hz or bytes and the endpoint has no default", example.name)];
    };
    let url = format!("{base_url}{}", endpoint.target_query(example.query.as_deref()));
    let response = match client.get(&url).header("accept", "text/event-stream").send() {
        Ok(r) => r,
        Err(e) => return vec![format!("subscribing to {url} failed: {e}")],
    };
    let mut failures = Vec::new();
    let status = response.status().as_u16();
    if status != 200 {
        return vec![format!("status: expected 200, got {status}")];
    }
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let media = header("content-type").map(|ct| ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
    if media.as_deref() != Some("text/event-stream") {
        failures.push(format!("content type: expected text/event-stream, got {media:?}"));
    }
    if header("content-length").is_some() {
        failures.push("an event stream has a Content-Length".into());
    }
    if header("server").is_none() || header("date").is_none() {
        failures.push("header Server or Date is missing".into());
    }
    let mut lines = BufReader::new(response).lines();
    let mut previous: Option<i64> = None;
    for n in 0..example.events {
        let mut next = || match lines.next() {
            Some(Ok(line)) => Ok(line),
            Some(Err(e)) => Err(format!("event {n}: reading the stream failed: {e}")),
            None => Err(format!("event {n}: the stream ended")),
        };
        let event = (|| -> Result<(String, String, String), String> { Ok((next()?, next()?, next()?)) })();
        let received_us = now_us();
        let (id_line, data_line, blank) = match event {
            Ok(lines) => lines,
            Err(e) => {
                failures.push(e);
                break;
            }
        };
        let mut problems = check_event(&id_line, &data_line, &blank, size, received_us, previous);
        if let Some(id) = id_line.strip_prefix("id: ").and_then(|v| v.parse().ok()) {
            previous = Some(id);
        }
        failures.extend(problems.drain(..).map(|p| format!("event {n}: {p}")));
        if failures.len() > 5 {
            break;
        }
    }
    failures
}

/// The failures of one event's three lines, received at `received_us`, after the id `previous`.
fn check_event(
    id_line: &str,
    data_line: &str,
    blank: &str,
    size: i64,
    received_us: i64,
    previous: Option<i64>,
) -> Vec<String> {
    let mut failures = Vec::new();
    let id: Option<i64> = id_line.strip_prefix("id: ").and_then(|v| v.parse().ok());
    let Some(id) = id else {
        return vec![format!("expected 'id: N', got {id_line:?}")];
    };
    if let Some(before) = previous {
        if id != before + 1 {
            failures.push(format!("id {id} after {before}: the ids of one subscriber must be consecutive"));
        }
    }
    if !blank.is_empty() {
        failures.push(format!("expected the blank line that ends an event, got {blank:?}"));
    }
    let Some(data) = data_line.strip_prefix("data: ") else {
        failures.push(format!("expected 'data: ...', got {:?}", preview(data_line)));
        return failures;
    };
    if data.len() as i64 != size {
        failures.push(format!("data is {} bytes, expected {size}", data.len()));
    }
    match serde_json::from_str::<Value>(data) {
        Ok(v) => {
            if v.get("seq").and_then(Value::as_i64) != Some(id) {
                failures.push(format!("seq {:?} is not the id {id}", v.get("seq")));
            }
            match v.get("sent_us").and_then(Value::as_i64) {
                Some(sent) if sent > received_us + CLOCK_SLACK_US => {
                    failures.push(format!("sent_us {sent} lies {} µs in the future", sent - received_us))
                }
                Some(sent) if received_us - sent > MAX_AGE.as_micros() as i64 => failures.push(format!(
                    "arrived {} ms after its sent_us: events must be pushed as they tick, not buffered",
                    (received_us - sent) / 1000
                )),
                Some(_) => {}
                None => failures.push("sent_us is missing or not an integer".into()),
            }
            if !v.get("pad").and_then(Value::as_str).is_some_and(|p| p.bytes().all(|b| b == b'x')) {
                failures.push("pad is missing or not all x".into());
            }
        }
        Err(e) => failures.push(format!("data is not JSON ({e}): {}", preview(data))),
    }
    failures
}

fn now_us() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

fn preview(text: &str) -> String {
    text.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(seq: i64, sent_us: i64, size: usize) -> String {
        let head = format!("{{\"seq\":{seq},\"sent_us\":{sent_us},\"pad\":\"");
        format!("data: {head}{}\"}}", "x".repeat(size - head.len() - 2))
    }

    #[test]
    fn a_well_formed_recent_event_after_its_predecessor_passes() {
        let now = now_us();
        assert_eq!(check_event("id: 8", &data(8, now - 1000, 64), "", 64, now, Some(7)), Vec::<String>::new());
    }

    #[test]
    fn a_gap_a_stale_event_and_a_wrong_size_are_each_named() {
        let now = now_us();
        let gap = check_event("id: 9", &data(9, now, 64), "", 64, now, Some(7));
        assert!(gap[0].contains("consecutive"), "{gap:?}");
        let stale = check_event("id: 8", &data(8, now - 2_000_000, 64), "", 64, now, Some(7));
        assert!(stale[0].contains("buffered"), "{stale:?}");
        let size = check_event("id: 8", &data(8, now, 70), "", 64, now, None);
        assert!(size[0].contains("70 bytes, expected 64"), "{size:?}");
        let seq = check_event("id: 8", &data(3, now, 64), "", 64, now, None);
        assert!(seq[0].contains("not the id 8"), "{seq:?}");
        let framing = check_event("event: tick", "data: {}", "", 64, now, None);
        assert!(framing[0].contains("'id: N'"), "{framing:?}");
    }
}
