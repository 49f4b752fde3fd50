//! Runs every example of the contract against one stack and records what differed.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use claimbench_model::contract::{Contract, Endpoint, Example};
use serde_json::Value;

use crate::compare::{json_equal, substitute_stack};
use crate::database::{check_counters, check_shape, CountersProbe};
use crate::sse::check_sse_example;
use crate::websocket::check_ws_example;

/// How early a timed response may arrive: both runtimes' timers work in whole milliseconds, and
/// Node's measure from the event loop's cached clock, so a 25 ms timer can end after 24.9 ms.
/// A sleep that did not wait at all is still far outside this.
const TIMER_SLACK: Duration = Duration::from_millis(2);

/// Why the check could not run at all (as opposed to a stack failing it).
#[derive(Debug, thiserror::Error)]
pub enum ConformanceError {
    #[error("cannot read the contract {path}: {source}")]
    ReadContract { path: PathBuf, source: std::io::Error },
    #[error("the contract {path} is not valid: {source}; fix the JSON (see fixtures/contract/)")]
    ParseContract { path: PathBuf, source: serde_json::Error },
    #[error("example '{example}' names {path}, which cannot be read: {source}")]
    Fixture { example: String, path: PathBuf, source: std::io::Error },
    #[error("could not build an HTTP client: {0}")]
    Client(reqwest::Error),
}

/// The outcome of one example on one stack.
#[derive(Debug, Clone)]
pub struct CheckResult {
    pub stack: String,
    pub endpoint: String,
    pub example: String,
    /// Empty when the example passed; otherwise one line per difference.
    pub failures: Vec<String>,
}

impl CheckResult {
    /// True when nothing differed.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Reads and parses a contract file.
pub fn load_contract(path: &Path) -> Result<Contract, ConformanceError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| ConformanceError::ReadContract { path: path.to_path_buf(), source })?;
    serde_json::from_str(&text).map_err(|source| ConformanceError::ParseContract { path: path.to_path_buf(), source })
}

/// Checks every example (HTTP, then WebSocket) against the stack at `base_url`. `root` resolves
/// fixture paths; `upstream_url`, when given, is asked for `/stats` to check upstream hit counts;
/// `database`, when given, reads the database's counters to check what each database example
/// cost it.
pub fn check_stack(
    contract: &Contract,
    root: &Path,
    stack: &str,
    base_url: &str,
    upstream_url: Option<&str>,
    database: Option<CountersProbe<'_>>,
) -> Result<Vec<CheckResult>, ConformanceError> {
    let client = reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(ConformanceError::Client)?;
    let mut results = Vec::new();
    for endpoint in &contract.endpoints {
        for example in &endpoint.examples {
            let mut failures =
                check_example(&client, root, stack, base_url, upstream_url, endpoint, example, database)?;
            if example.db.is_some() && database.is_none() {
                failures.push("no database was given to check its counters against".into());
            }
            results.push(CheckResult {
                stack: stack.to_string(),
                endpoint: format!("{} {}", endpoint.method, endpoint.path),
                example: example.name.clone(),
                failures,
            });
        }
    }
    let mut websockets = 0;
    for endpoint in &contract.endpoints {
        for example in &endpoint.ws_examples {
            websockets += 1;
            results.push(CheckResult {
                stack: stack.to_string(),
                endpoint: format!("WS {}", endpoint.path),
                example: example.name.clone(),
                failures: check_ws_example(base_url, endpoint, example),
            });
        }
    }
    for endpoint in &contract.endpoints {
        for example in &endpoint.sse_examples {
            results.push(CheckResult {
                stack: stack.to_string(),
                endpoint: format!("SSE {}", endpoint.path),
                example: example.name.clone(),
                failures: check_sse_example(&client, base_url, endpoint, example),
            });
        }
    }
    if websockets > 0 {
        results.push(CheckResult {
            stack: stack.to_string(),
            endpoint: "GET /health".into(),
            example: "after-websockets".into(),
            failures: check_health(&client, base_url, stack),
        });
    }
    results.push(CheckResult {
        stack: stack.to_string(),
        endpoint: "GET /health".into(),
        example: "date-changes".into(),
        failures: check_date_changes(&client, base_url),
    });
    Ok(results)
}

#[allow(clippy::too_many_arguments)]
fn check_example(
    client: &reqwest::blocking::Client,
    root: &Path,
    stack: &str,
    base_url: &str,
    upstream_url: Option<&str>,
    endpoint: &Endpoint,
    example: &Example,
    database: Option<CountersProbe<'_>>,
) -> Result<Vec<String>, ConformanceError> {
    let read = |rel: &str| {
        let path = root.join(rel);
        std::fs::read(&path).map_err(|source| ConformanceError::Fixture { example: example.name.clone(), path, source })
    };
    if let Some(declared) = example.request_declared_length {
        return Ok(check_declared_length(base_url, stack, endpoint, example, declared));
    }
    let body = match (&example.request_body_file, &example.request_body_text, example.request_pattern_bytes) {
        (Some(file), _, _) => Some(reqwest::blocking::Body::from(read(file)?)),
        (None, Some(text), _) => Some(reqwest::blocking::Body::from(text.clone().into_bytes())),
        // No length given: reqwest sends it chunked, as a streaming client would.
        (None, None, Some(len)) => Some(reqwest::blocking::Body::new(PatternReader { offset: 0, len })),
        (None, None, None) => None,
    };
    let expected_body = example.body_file.as_deref().map(read).transpose()?;
    let method = reqwest::Method::from_bytes(endpoint.method.as_str().as_bytes())
        .expect("every contract method is a valid HTTP token");
    let mut request = client.request(method, format!("{base_url}{}", endpoint.target(example)));
    if let Some(ct) = &example.request_content_type {
        request = request.header(reqwest::header::CONTENT_TYPE, ct);
    }
    if let Some(body) = body {
        request = request.body(body);
    }
    let hits_before = upstream_url.and_then(|u| upstream_hits(client, u));
    let db_before = example.db.as_ref().and(database).and_then(|probe| probe());
    let started = Instant::now();
    let response = match request.send() {
        Ok(r) => r,
        Err(e) => return Ok(vec![format!("request failed: {e}")]),
    };
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = match response.bytes() {
        Ok(b) => b,
        Err(e) => return Ok(vec![format!("reading the body failed: {e}")]),
    };
    let elapsed = started.elapsed();
    let mut failures = Vec::new();

    if status != example.status {
        failures.push(format!("status: expected {}, got {status}; body {}", example.status, preview(&bytes)));
    }
    check_headers(&headers, example, &mut failures);
    check_body(&bytes, example, expected_body.as_deref(), stack, &mut failures);
    if let Some(len) = example.body_pattern_bytes {
        check_pattern_body(&bytes, len, &mut failures);
    }
    if let Some(expect) = &example.db {
        check_shape(&bytes, expect, &mut failures);
        if let Some(probe) = database {
            check_counters(probe, db_before, expect, &bytes, &mut failures);
        }
    }
    if let Some(min) = example.min_latency_ms {
        if elapsed + TIMER_SLACK < Duration::from_millis(min) {
            failures.push(format!(
                "answered in {elapsed:?}, sooner than the {min} ms it must wait (less {TIMER_SLACK:?} of timer slack)"
            ));
        }
    }
    if let (Some(calls), Some(url)) = (example.upstream_calls, upstream_url) {
        match (hits_before, upstream_hits(client, url)) {
            (Some(before), Some(after)) if after - before != calls => failures.push(format!(
                "upstream hits: the app reported {calls} calls but the upstream served {} (a cached or skipped call?)",
                after - before
            )),
            (Some(_), Some(_)) => {}
            _ => failures.push(format!("could not read {url}/stats to count upstream hits")),
        }
    }
    Ok(failures)
}

fn check_headers(headers: &reqwest::header::HeaderMap, example: &Example, failures: &mut Vec<String>) {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    match get("server") {
        Some(s) if !s.trim().is_empty() => {}
        _ => failures.push("header Server is missing".into()),
    }
    match get("date") {
        Some(d) if parse_http_date(&d).is_some() => {}
        Some(d) => failures.push(format!("header Date '{d}' is not an HTTP date")),
        None => failures.push("header Date is missing".into()),
    }
    if get("content-length").is_none() && get("transfer-encoding").is_none() {
        failures.push("neither Content-Length nor Transfer-Encoding is set".into());
    }
    let media = get("content-type").map(|ct| ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
    let wanted = example.content_type.clone().or_else(|| example.error.then(|| "application/json".to_string()));
    match (wanted, media) {
        (Some(want), Some(got)) if want != got => failures.push(format!("content type: expected {want}, got {got}")),
        (Some(want), None) => failures.push(format!("content type: expected {want}, got none")),
        _ => {}
    }
}

fn check_body(bytes: &[u8], example: &Example, expected_file: Option<&[u8]>, stack: &str, failures: &mut Vec<String>) {
    if let Some(expected) = expected_file {
        if bytes != expected {
            failures.push(byte_difference(expected, bytes));
        }
    }
    if let Some(text) = &example.body_text {
        if bytes != text.as_bytes() {
            failures.push(byte_difference(text.as_bytes(), bytes));
        }
    }
    if let Some(expected) = &example.body_json {
        let expected = substitute_stack(expected, stack);
        match serde_json::from_slice::<Value>(bytes) {
            Ok(actual) if json_equal(&expected, &actual) => {}
            Ok(actual) => failures.push(format!("body: expected {expected}, got {actual}")),
            Err(_) => failures.push(format!("body: expected JSON {expected}, got {}", preview(bytes))),
        }
    }
    if example.error {
        let is_error = serde_json::from_slice::<Value>(bytes)
            .ok()
            .and_then(|v| v.get("error").map(Value::is_string))
            .unwrap_or(false);
        if !is_error {
            failures.push(format!("body: expected {{\"error\": \"...\"}}, got {}", preview(bytes)));
        }
    }
}

/// Reads the first `len` bytes of the stream pattern, in whatever sizes the caller asks for.
struct PatternReader {
    offset: u64,
    len: u64,
}

impl std::io::Read for PatternReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = usize::try_from(self.len - self.offset).unwrap_or(usize::MAX).min(buf.len());
        claimbench_model::contract::fill_stream_pattern(self.offset, &mut buf[..n]);
        self.offset += n as u64;
        Ok(n)
    }
}

/// Lowercase hex SHA-256, the contract's stream digest.
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// A streamed download must be the pattern: the same length and the same SHA-256.
fn check_pattern_body(bytes: &[u8], len: u64, failures: &mut Vec<String>) {
    if bytes.len() as u64 != len {
        failures.push(format!("stream body: expected {len} bytes, got {}", bytes.len()));
        return;
    }
    let expected = claimbench_model::contract::stream_pattern(bytes.len());
    let (want, got) = (sha256_hex(&expected), sha256_hex(bytes));
    if want != got {
        failures.push(format!(
            "stream body: SHA-256 {got} is not the pattern's {want}; {}",
            byte_difference(&expected, bytes)
        ));
    }
}

/// Sends only the headers of a request whose `Content-Length` declares `declared` bytes and
/// reads the answer, which the server must give from the header alone (reqwest cannot send a
/// length it does not mean). The connection is closed afterwards, unread body and all.
fn check_declared_length(
    base_url: &str,
    stack: &str,
    endpoint: &Endpoint,
    example: &Example,
    declared: u64,
) -> Vec<String> {
    use std::io::Write;
    let Some(authority) = base_url.strip_prefix("http://") else {
        return vec![format!("{base_url} is not an http:// URL")];
    };
    let authority = authority.trim_end_matches('/');
    let content_type = example.request_content_type.as_deref().unwrap_or("application/octet-stream");
    let request = format!(
        "{} {} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: {content_type}\r\nContent-Length: {declared}\r\n\r\n",
        endpoint.method,
        endpoint.target(example)
    );
    let exchange = || -> std::io::Result<Vec<u8>> {
        let mut stream = std::net::TcpStream::connect(authority)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.write_all(request.as_bytes())?;
        read_one_response(&mut stream)
    };
    let raw = match exchange() {
        Ok(raw) => raw,
        Err(e) => {
            return vec![format!("a request declaring {declared} bytes got no answer from its headers alone: {e}")]
        }
    };
    let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return vec![format!("not an HTTP response: {}", preview(&raw))];
    };
    let head = String::from_utf8_lossy(&raw[..split]);
    let body = &raw[split + 4..];
    let status: Option<u16> = head.split_whitespace().nth(1).and_then(|s| s.parse().ok());
    let mut failures = Vec::new();
    if status != Some(example.status) {
        failures.push(format!("status: expected {}, got {status:?}; body {}", example.status, preview(body)));
    }
    check_body(body, example, None, stack, &mut failures);
    failures
}

/// Reads one HTTP/1.1 response with a `Content-Length` (or one ended by the server's close).
fn read_one_response(stream: &mut std::net::TcpStream) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        if let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok());
            if length.is_some_and(|len| raw.len() >= split + 4 + len) {
                return Ok(raw);
            }
        }
        match stream.read(&mut buf) {
            Ok(0) => return Ok(raw),
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            // A server that answers early and then resets the unread body still answered.
            Err(e) if !raw.is_empty() && e.kind() == std::io::ErrorKind::ConnectionReset => return Ok(raw),
            Err(e) => return Err(e),
        }
    }
}

/// The stack still answers `/health` after every WebSocket example (HttpArena's last check): a
/// close or an oversized message must not have hurt the process.
fn check_health(client: &reqwest::blocking::Client, base_url: &str, stack: &str) -> Vec<String> {
    let response = match client.get(format!("{base_url}/health")).send() {
        Ok(r) => r,
        Err(e) => return vec![format!("/health failed after the WebSocket examples: {e}")],
    };
    let status = response.status().as_u16();
    let body: Option<Value> = response.json().ok();
    let wanted = serde_json::json!({ "status": "ok", "stack": stack });
    match body {
        Some(b) if status == 200 && json_equal(&wanted, &b) => vec![],
        other => vec![format!("/health after the WebSocket examples: expected 200 {wanted}, got {status} {other:?}")],
    }
}

/// Two requests a little over a second apart must carry different Date headers.
fn check_date_changes(client: &reqwest::blocking::Client, base_url: &str) -> Vec<String> {
    let date = || -> Option<String> {
        let response = client.get(format!("{base_url}/health")).send().ok()?;
        response.headers().get("date")?.to_str().ok().map(str::to_string)
    };
    let first = date();
    std::thread::sleep(Duration::from_millis(1100));
    let second = date();
    match (first, second) {
        (Some(a), Some(b)) if a == b => vec![format!("Date stayed '{a}' across 1.1 s: it is cached or frozen")],
        (Some(_), Some(_)) => vec![],
        _ => vec!["could not read the Date header of /health".into()],
    }
}

fn upstream_hits(client: &reqwest::blocking::Client, upstream_url: &str) -> Option<u64> {
    let stats: Value = client.get(format!("{upstream_url}/stats")).send().ok()?.json().ok()?;
    stats.get("delay_requests")?.as_u64()
}

/// Parses an IMF-fixdate such as `Sun, 06 Nov 1994 08:49:37 GMT` into seconds of the day,
/// enough to check the format.
fn parse_http_date(date: &str) -> Option<u32> {
    let parts: Vec<&str> = date.split_whitespace().collect();
    if parts.len() != 6 || parts[5] != "GMT" || !parts[0].ends_with(',') {
        return None;
    }
    let day: u32 = parts[1].parse().ok()?;
    let year: u32 = parts[3].parse().ok()?;
    let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    if !(1..=31).contains(&day) || year < 2000 || !months.contains(&parts[2]) {
        return None;
    }
    let hms: Vec<u32> = parts[4].split(':').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    (hms.len() == 3).then(|| hms[0] * 3600 + hms[1] * 60 + hms[2])
}

fn preview(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.len() > 200 {
        let mut cut = 200;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}… ({} bytes)", &text[..cut], bytes.len())
    } else {
        format!("{text:?}")
    }
}

/// Where two bodies first differ, with a little context from each.
fn byte_difference(expected: &[u8], actual: &[u8]) -> String {
    let at = expected.iter().zip(actual).position(|(a, b)| a != b).unwrap_or(expected.len().min(actual.len()));
    let window = |b: &[u8]| String::from_utf8_lossy(&b[at.saturating_sub(40)..(at + 40).min(b.len())]).to_string();
    format!(
        "body differs at byte {at} (expected {} bytes, got {}):\n    expected …{}…\n    actual   …{}…",
        expected.len(),
        actual.len(),
        window(expected),
        window(actual)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_are_recognised() {
        assert_eq!(parse_http_date("Sun, 06 Nov 2026 08:49:37 GMT"), Some(8 * 3600 + 49 * 60 + 37));
        assert_eq!(parse_http_date("Sun, 06 Nov 2026 08:49:37 UTC"), None);
        assert_eq!(parse_http_date("yesterday"), None);
    }

    #[test]
    fn a_pattern_body_of_the_wrong_length_or_content_fails() {
        let mut failures = Vec::new();
        check_pattern_body(&claimbench_model::contract::stream_pattern(300), 300, &mut failures);
        assert!(failures.is_empty(), "{failures:?}");
        check_pattern_body(&claimbench_model::contract::stream_pattern(299), 300, &mut failures);
        assert!(failures[0].contains("expected 300 bytes, got 299"), "{failures:?}");
        let mut swapped = claimbench_model::contract::stream_pattern(300);
        swapped.swap(10, 11);
        failures.clear();
        check_pattern_body(&swapped, 300, &mut failures);
        assert!(failures[0].contains("SHA-256") && failures[0].contains("byte 10"), "{failures:?}");
    }

    #[test]
    fn the_pattern_reader_streams_exactly_the_pattern() {
        use std::io::Read;
        let mut body = Vec::new();
        PatternReader { offset: 0, len: 1000 }.read_to_end(&mut body).unwrap();
        assert_eq!(body, claimbench_model::contract::stream_pattern(1000));
        assert_eq!(sha256_hex(&body), "4e4c294b331f7a2099a379bec34b9f9fc03dc46ab465d998f4d683da53487e6d");
    }

    #[test]
    fn byte_difference_points_at_the_first_differing_byte() {
        let msg = byte_difference(b"{\"a\":1,\"b\":2}", b"{\"a\":1,\"b\":3}");
        assert!(msg.contains("byte 11"), "{msg}");
    }

    #[test]
    fn the_bundled_contract_parses_and_every_fixture_exists() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let contract = load_contract(&root.join("fixtures/contract/contract.json")).unwrap();
        assert!(contract.endpoints.len() >= 9);
        for example in contract.endpoints.iter().flat_map(|e| &e.examples) {
            for file in [&example.request_body_file, &example.body_file].into_iter().flatten() {
                assert!(root.join(file).is_file(), "{} names missing {file}", example.name);
            }
            let expects_something = example.error
                || example.db.is_some()
                || example.body_json.is_some()
                || example.body_text.is_some()
                || example.body_file.is_some()
                || example.body_pattern_bytes.is_some();
            assert!(expects_something, "example {} checks no body", example.name);
        }
    }
}
