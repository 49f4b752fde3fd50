//! The endpoint contract (`fixtures/contract/contract.json`) as types.
//!
//! This module only describes the contract; reading it from disk is the caller's job, and checking
//! a live stack against it belongs to the conformance crate.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The whole contract file.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Contract {
    pub version: u32,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub notes: BTreeMap<String, String>,
    /// Length of every upstream `/delay` body, so `bytes = calls * upstream_body_bytes`.
    pub upstream_body_bytes: u64,
    pub endpoints: Vec<Endpoint>,
}

/// One endpoint (or one deliberate error path) of the contract.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Endpoint {
    pub id: String,
    /// An unknown method is a parse error naming the known ones, never a silent `GET`.
    pub method: HttpMethod,
    pub path: String,
    /// `overhead`, `io` or `cpu`: decides the Python handler style and which experiments use it.
    pub kind: String,
    #[serde(default)]
    pub params: Vec<Param>,
    #[serde(default)]
    pub request: Option<RequestSpec>,
    #[serde(default)]
    pub definition: String,
    #[serde(default)]
    pub examples: Vec<Example>,
    /// The capability group a stack must declare in `fixtures/stacks.toml` to be held to this
    /// endpoint (`db`, `realtime`, `streams`); absent means [`HTTP_GROUP`], the core.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// For a WebSocket endpoint: what its messages may be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub websocket: Option<WebSocketSpec>,
    /// WebSocket exchanges every stack must give (HTTP examples stay in `examples`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ws_examples: Vec<WsExample>,
    /// Server-sent-event subscriptions every stack must serve (the error cases stay in
    /// `examples`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sse_examples: Vec<SseExample>,
}

/// One subscription to an event stream: the events that must arrive, framed and timed as the
/// endpoint's definition says.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct SseExample {
    pub name: String,
    /// Query string without the leading `?`, already percent-encoded.
    #[serde(default)]
    pub query: Option<String>,
    /// How many events to read and check before closing.
    pub events: u32,
}

/// The limits of a WebSocket endpoint's messages.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct WebSocketSpec {
    /// A longer message makes the server close with 1009.
    pub max_message_bytes: u64,
    /// `text`, `binary`: a message of another type makes the server close with 1003.
    pub accepts: Vec<String>,
}

/// One WebSocket exchange: a handshake, messages sent, the messages and the close that must come
/// back.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct WsExample {
    pub name: String,
    /// Query string without the leading `?`, already percent-encoded.
    #[serde(default)]
    pub query: Option<String>,
    /// Sent in order once the handshake is done.
    #[serde(default)]
    pub send: Vec<WsMessage>,
    /// Must arrive in this order, and nothing else before the close.
    #[serde(default)]
    pub expect: Vec<WsMessage>,
    /// The server must close with this code after the messages; absent means the client closes
    /// with 1000 and the server must answer 1000.
    #[serde(default)]
    pub close_code: Option<u16>,
    /// The handshake must be refused with this HTTP status and an `{"error": ...}` body.
    #[serde(default)]
    pub refused_status: Option<u16>,
}

/// A WebSocket message as the contract writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WsMessage {
    /// A text message.
    Text(String),
    /// A binary message, its bytes in hexadecimal.
    BinaryHex(String),
    /// A text message of this many `a`s (for the size limits).
    TextOfBytes(usize),
}

impl WsMessage {
    /// True for a binary message.
    pub fn is_binary(&self) -> bool {
        matches!(self, WsMessage::BinaryHex(_))
    }

    /// The message's payload; `None` when `binary_hex` is not valid hexadecimal.
    pub fn payload(&self) -> Option<Vec<u8>> {
        match self {
            WsMessage::Text(t) => Some(t.clone().into_bytes()),
            WsMessage::TextOfBytes(n) => Some(vec![b'a'; *n]),
            WsMessage::BinaryHex(hex) => {
                if hex.len() % 2 != 0 {
                    return None;
                }
                (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect()
            }
        }
    }
}

/// The period of the stream pattern: a prime, so that no chunk size lines up with it.
pub const STREAM_PATTERN_PERIOD: u64 = 251;

/// The byte at `offset` of every streamed body (`/stream/download`, the uploads claimbench
/// sends): `offset mod 251`, as the contract's `notes.streams` defines it.
pub fn stream_pattern_byte(offset: u64) -> u8 {
    (offset % STREAM_PATTERN_PERIOD) as u8
}

/// Fills `buf` with the stream pattern from `offset` on, so a body can be produced (or checked)
/// chunk by chunk without ever holding it whole.
pub fn fill_stream_pattern(offset: u64, buf: &mut [u8]) {
    let mut next = stream_pattern_byte(offset);
    let period = STREAM_PATTERN_PERIOD as usize;
    let head = buf.len().min(period);
    for byte in &mut buf[..head] {
        *byte = next;
        next = if u64::from(next) + 1 == STREAM_PATTERN_PERIOD { 0 } else { next + 1 };
    }
    // The rest repeats the first period: copy what is filled, doubling (100 MB in a few copies).
    let mut filled = head;
    while filled < buf.len() {
        let take = (filled - filled % period).min(buf.len() - filled);
        buf.copy_within(..take, filled);
        filled += take;
    }
}

/// The first `len` bytes of the stream pattern (for bodies small enough to hold).
pub fn stream_pattern(len: usize) -> Vec<u8> {
    let mut body = vec![0; len];
    fill_stream_pattern(0, &mut body);
    body
}

/// The group of the contract's core HTTP endpoints, which every stack implements unless its
/// registry entry says otherwise.
pub const HTTP_GROUP: &str = "http";

/// The HTTP methods an endpoint of the contract may use; written in capitals, e.g. `POST`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
    Options,
}

impl HttpMethod {
    /// The method as sent on the wire, e.g. `GET`.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Head => "HEAD",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
            HttpMethod::Options => "OPTIONS",
        }
    }
}

impl std::fmt::Display for HttpMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A query parameter and its limits.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Param {
    pub name: String,
    pub required: bool,
    #[serde(default)]
    pub default: Option<i64>,
    #[serde(default)]
    pub min: Option<i64>,
    #[serde(default)]
    pub max: Option<i64>,
    #[serde(default)]
    pub one_of: Option<Vec<String>>,
}

/// What a request body must look like.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RequestSpec {
    pub content_type: String,
    pub max_body_bytes: u64,
    #[serde(default)]
    pub schema: String,
}

/// One example request and the response every stack must give.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Example {
    pub name: String,
    /// Query string without the leading `?`, already percent-encoded.
    #[serde(default)]
    pub query: Option<String>,
    /// Request body read from this file (relative to the repository root).
    #[serde(default)]
    pub request_body_file: Option<String>,
    #[serde(default)]
    pub request_body_text: Option<String>,
    #[serde(default)]
    pub request_content_type: Option<String>,
    /// Request body: the first this many bytes of the stream pattern ([`stream_pattern`]),
    /// generated and sent chunked, never read from a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_pattern_bytes: Option<u64>,
    /// No body is sent, but `Content-Length` declares this many bytes: for a limit the server must
    /// refuse from the header alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_declared_length: Option<u64>,
    pub status: u16,
    /// Expected media type, compared without parameters such as `charset`.
    #[serde(default)]
    pub content_type: Option<String>,
    /// Expected JSON body, compared canonically; the string `{stack}` stands for the stack name.
    #[serde(default)]
    pub body_json: Option<serde_json::Value>,
    /// Expected body, byte for byte.
    #[serde(default)]
    pub body_text: Option<String>,
    /// Expected body, byte for byte, read from this file.
    #[serde(default)]
    pub body_file: Option<String>,
    /// The body must be the first this many bytes of the stream pattern: its length and SHA-256
    /// are compared with the pattern's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_pattern_bytes: Option<u64>,
    /// The body must be a JSON object with a string field `error`.
    #[serde(default)]
    pub error: bool,
    /// Upstream hits this request must cause.
    #[serde(default)]
    pub upstream_calls: Option<u64>,
    /// The response may not arrive sooner than this.
    #[serde(default)]
    pub min_latency_ms: Option<u64>,
    /// A database endpoint's answer: its shape (the rows are random) and what it must cost the
    /// database, counted by `pg_stat_statements`.
    #[serde(default)]
    pub db: Option<DbExpect>,
}

/// What a database example's answer must look like and cost.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct DbExpect {
    pub shape: DbShape,
    /// `worlds`: how many objects the array must hold.
    #[serde(default)]
    pub rows: Option<u64>,
    /// `fortunes`: the `(id, message)` rows the HTML table must list, in order, once parsed and
    /// unescaped (so any correct escaping passes, and a raw `<script>` does not).
    #[serde(default)]
    pub fortunes: Vec<(i64, String)>,
    /// What one such answer must cost the database.
    #[serde(default)]
    pub work: crate::database::DbWork,
}

/// The shape of a database answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DbShape {
    /// One `{"id": 1..=10000, "randomNumber": 1..=10000}` object.
    #[default]
    World,
    /// An array of such objects.
    Worlds,
    /// An HTML page with a table of fortunes.
    Fortunes,
}

impl Endpoint {
    /// The capability group, `http` when the contract names none.
    pub fn group(&self) -> &str {
        self.group.as_deref().unwrap_or(HTTP_GROUP)
    }

    /// The path plus a query string (without its `?`), ready to append to a base URL.
    pub fn target_query(&self, query: Option<&str>) -> String {
        match query {
            Some(q) if !q.is_empty() => format!("{}?{}", self.path, q),
            _ => self.path.clone(),
        }
    }

    /// The path plus the example's query string, ready to append to a base URL.
    pub fn target(&self, example: &Example) -> String {
        self.target_query(example.query.as_deref())
    }
}

impl Contract {
    /// Looks an endpoint up by its id.
    pub fn endpoint(&self, id: &str) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| e.id == id)
    }

    /// Every group some endpoint belongs to, sorted.
    pub fn groups(&self) -> Vec<&str> {
        let mut groups: Vec<&str> = self.endpoints.iter().map(Endpoint::group).collect();
        groups.sort_unstable();
        groups.dedup();
        groups
    }

    /// The same contract with only the endpoints of `groups`: what a stack implementing exactly
    /// those groups must answer.
    pub fn restricted_to(&self, groups: &[String]) -> Contract {
        Contract {
            endpoints: self.endpoints.iter().filter(|e| groups.iter().any(|g| g == e.group())).cloned().collect(),
            ..self.clone()
        }
    }

    /// The group of the endpoint a request to `method path` reaches, if the contract has one;
    /// `path` may carry a query string (`/queries?queries=20`).
    pub fn group_of(&self, method: &str, path: &str) -> Option<&str> {
        let path = path.split_once('?').map_or(path, |(p, _)| p);
        self.endpoints.iter().find(|e| e.method.as_str() == method && e.path == path).map(Endpoint::group)
    }
}

/// True when `a` and `b` are the same JSON document up to key order and number spelling, so `1`
/// equals `1.0`; everything else must match exactly. Bodies of the contract compare this way,
/// in the conformance check and in the engine's sampled responses alike.
pub fn json_equal(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_equal(x, y)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_method_is_an_error_naming_the_known_ones() {
        let endpoint = |method: &str| serde_json::json!({ "id": "e", "method": method, "path": "/", "kind": "io" });
        let ok: Endpoint = serde_json::from_value(endpoint("POST")).unwrap();
        assert_eq!(ok.method, HttpMethod::Post);
        let err = serde_json::from_value::<Endpoint>(endpoint("FETCH")).unwrap_err().to_string();
        assert!(err.contains("FETCH") && err.contains("GET"), "{err}");
    }

    fn two_group_contract() -> Contract {
        serde_json::from_value(serde_json::json!({
            "version": 1,
            "upstream_body_bytes": 81,
            "endpoints": [
                { "id": "json", "method": "GET", "path": "/json", "kind": "overhead" },
                { "id": "ws", "method": "GET", "path": "/ws/echo", "kind": "io", "group": "realtime" }
            ]
        }))
        .unwrap()
    }

    #[test]
    fn an_endpoint_without_a_group_is_in_the_http_group() {
        let contract = two_group_contract();
        assert_eq!(contract.endpoint("json").unwrap().group(), HTTP_GROUP);
        assert_eq!(contract.groups(), vec!["http", "realtime"]);
        assert_eq!(contract.group_of("GET", "/ws/echo"), Some("realtime"));
        assert_eq!(contract.group_of("GET", "/ws/echo?room=a"), Some("realtime"));
        assert_eq!(contract.group_of("POST", "/ws/echo"), None);
    }

    #[test]
    fn restricting_to_groups_keeps_only_their_endpoints() {
        let contract = two_group_contract();
        let http = contract.restricted_to(&["http".to_string()]);
        assert_eq!(http.endpoints.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), vec!["json"]);
        let both = contract.restricted_to(&["http".to_string(), "realtime".to_string()]);
        assert_eq!(both.endpoints.len(), 2);
    }

    #[test]
    fn websocket_messages_read_as_the_contract_writes_them() {
        let messages: Vec<WsMessage> =
            serde_json::from_str(r#"[{"text":"hi"},{"binary_hex":"00ff"},{"text_of_bytes":3}]"#).unwrap();
        assert_eq!(messages[0].payload().unwrap(), b"hi");
        assert_eq!(messages[1].payload().unwrap(), [0x00, 0xff]);
        assert!(messages[1].is_binary() && !messages[0].is_binary());
        assert_eq!(messages[2].payload().unwrap(), b"aaa");
        assert_eq!(WsMessage::BinaryHex("0g".into()).payload(), None);
        assert_eq!(WsMessage::BinaryHex("abc".into()).payload(), None);
    }

    #[test]
    fn the_stream_pattern_wraps_at_251_from_any_offset() {
        assert_eq!(stream_pattern(3), [0, 1, 2]);
        let long = stream_pattern(600);
        assert_eq!((long[250], long[251], long[252], long[502]), (250, 0, 1, 0));
        // A chunk filled from an offset equals that slice of the whole.
        let mut chunk = [0u8; 97];
        fill_stream_pattern(400, &mut chunk);
        assert_eq!(&chunk[..], &long[400..497]);
        assert_eq!(stream_pattern_byte(251 * 1_000_000 + 7), 7);
        let mut wide = vec![0u8; 2000];
        fill_stream_pattern(5, &mut wide);
        assert_eq!(&wide[..], &stream_pattern(2005)[5..]);
    }

    #[test]
    fn an_endpoint_without_a_group_is_http() {
        let e: Endpoint =
            serde_json::from_value(serde_json::json!({ "id": "e", "method": "GET", "path": "/", "kind": "io" }))
                .unwrap();
        assert_eq!(e.group(), "http");
    }
}
