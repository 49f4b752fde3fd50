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
    /// The capability group the endpoint belongs to (`http`, `realtime`, `streams`, `db`): a
    /// stack implements the groups its registry entry lists. Absent means [`HTTP_GROUP`].
    #[serde(default = "http_group", skip_serializing_if = "is_http_group")]
    pub group: String,
    #[serde(default)]
    pub params: Vec<Param>,
    #[serde(default)]
    pub request: Option<RequestSpec>,
    #[serde(default)]
    pub definition: String,
    #[serde(default)]
    pub examples: Vec<Example>,
}

/// The group of the contract's core HTTP endpoints, which every stack implements unless its
/// registry entry says otherwise.
pub const HTTP_GROUP: &str = "http";

fn http_group() -> String {
    HTTP_GROUP.to_string()
}

fn is_http_group(group: &str) -> bool {
    group == HTTP_GROUP
}

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
    /// The body must be a JSON object with a string field `error`.
    #[serde(default)]
    pub error: bool,
    /// Upstream hits this request must cause.
    #[serde(default)]
    pub upstream_calls: Option<u64>,
    /// The response may not arrive sooner than this.
    #[serde(default)]
    pub min_latency_ms: Option<u64>,
}

impl Endpoint {
    /// The path plus the example's query string, ready to append to a base URL.
    pub fn target(&self, example: &Example) -> String {
        match example.query.as_deref() {
            Some(q) if !q.is_empty() => format!("{}?{}", self.path, q),
            _ => self.path.clone(),
        }
    }
}

impl Contract {
    /// Looks an endpoint up by its id.
    pub fn endpoint(&self, id: &str) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| e.id == id)
    }

    /// Every group some endpoint belongs to, sorted.
    pub fn groups(&self) -> Vec<&str> {
        let mut groups: Vec<&str> = self.endpoints.iter().map(|e| e.group.as_str()).collect();
        groups.sort_unstable();
        groups.dedup();
        groups
    }

    /// The same contract with only the endpoints of `groups`: what a stack implementing exactly
    /// those groups must answer.
    pub fn restricted_to(&self, groups: &[String]) -> Contract {
        Contract {
            endpoints: self.endpoints.iter().filter(|e| groups.contains(&e.group)).cloned().collect(),
            ..self.clone()
        }
    }

    /// The group of the endpoint a request to `method path` reaches, if the contract has one.
    pub fn group_of(&self, method: &str, path: &str) -> Option<&str> {
        self.endpoints.iter().find(|e| e.method.as_str() == method && e.path == path).map(|e| e.group.as_str())
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
        assert_eq!(contract.endpoint("json").unwrap().group, HTTP_GROUP);
        assert_eq!(contract.groups(), vec!["http", "realtime"]);
        assert_eq!(contract.group_of("GET", "/ws/echo"), Some("realtime"));
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
}
