//! The WebSocket examples of the contract (`ws_examples`): HttpArena's validation list, run
//! against one stack over a blocking client.
//!
//! For each example it checks the 101 and a correct `Sec-WebSocket-Accept`, that exactly the
//! expected messages come back in order (text as text, binary as binary), and how the connection
//! ends: the server's close code where the example names one, otherwise a clean close with 1000
//! answered with 1000. A refused handshake must be that HTTP status with an `{"error": ...}` body.
//! Plain HTTP requests on the WebSocket paths are ordinary `examples`, checked by `check.rs`.

use std::net::TcpStream;
use std::time::Duration;

use claimbench_model::contract::{Endpoint, WsExample, WsMessage};
use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::derive_accept_key;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::CloseFrame;
use tungstenite::{HandshakeError, Message};

/// How long one read may wait: the examples are tiny, so anything slower is a hang.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs one WebSocket example against the stack at `base_url` (`http://host:port`); returns one
/// line per difference.
pub fn check_ws_example(base_url: &str, endpoint: &Endpoint, example: &WsExample) -> Vec<String> {
    match run(base_url, endpoint, example) {
        Ok(failures) => failures,
        Err(failure) => vec![failure],
    }
}

fn run(base_url: &str, endpoint: &Endpoint, example: &WsExample) -> Result<Vec<String>, String> {
    let authority = base_url.strip_prefix("http://").ok_or_else(|| format!("{base_url} is not an http:// URL"))?;
    let url = format!("ws://{authority}{}", endpoint.target_query(example.query.as_deref()));
    let request = url.as_str().into_client_request().map_err(|e| format!("cannot build a handshake for {url}: {e}"))?;
    let key = request
        .headers()
        .get("sec-websocket-key")
        .map(|k| k.as_bytes().to_vec())
        .ok_or("the client built a handshake without Sec-WebSocket-Key")?;
    let stream = TcpStream::connect(authority).map_err(|e| format!("cannot connect to {authority}: {e}"))?;
    stream.set_read_timeout(Some(READ_TIMEOUT)).map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;

    let (mut socket, response) = match tungstenite::client(request, stream) {
        Ok(done) => done,
        Err(HandshakeError::Failure(tungstenite::Error::Http(response))) => {
            return Ok(check_refusal(example, response.status().as_u16(), response.body().as_deref()));
        }
        Err(e) => return Err(format!("handshake failed: {e}")),
    };
    let mut failures = Vec::new();
    if let Some(status) = example.refused_status {
        failures.push(format!("handshake: expected a refusal with {status}, got {} and an upgrade", response.status()));
        return Ok(failures);
    }
    if response.status().as_u16() != 101 {
        failures.push(format!("handshake: expected 101, got {}", response.status()));
    }
    let accept = response.headers().get("sec-websocket-accept").and_then(|v| v.to_str().ok());
    let wanted = derive_accept_key(&key);
    if accept != Some(wanted.as_str()) {
        failures.push(format!("Sec-WebSocket-Accept: expected {wanted}, got {accept:?}"));
    }

    for message in &example.send {
        let frame =
            to_frame(message).ok_or_else(|| format!("example {}: binary_hex is not hexadecimal", example.name))?;
        if let Err(e) = socket.send(frame) {
            // A server closing on an oversized message may stop reading before it is all written.
            if example.close_code.is_none() {
                failures.push(format!("sending failed: {e}"));
                return Ok(failures);
            }
        }
    }
    for (i, wanted) in example.expect.iter().enumerate() {
        match socket.read() {
            Ok(got) => {
                if let Some(diff) = message_difference(wanted, &got) {
                    failures.push(format!("message {}: {diff}", i + 1));
                }
            }
            Err(e) => {
                failures.push(format!("message {}: expected {}, got {e}", i + 1, describe(wanted)));
                return Ok(failures);
            }
        }
    }
    match example.close_code {
        Some(code) => failures.extend(await_server_close(&mut socket, code)),
        None => failures.extend(close_cleanly(&mut socket)),
    }
    Ok(failures)
}

fn check_refusal(example: &WsExample, status: u16, body: Option<&[u8]>) -> Vec<String> {
    let Some(wanted) = example.refused_status else {
        return vec![format!("handshake: expected 101, got {status} {}", preview(body.unwrap_or_default()))];
    };
    let mut failures = Vec::new();
    if status != wanted {
        failures.push(format!("handshake: expected a refusal with {wanted}, got {status}"));
    }
    let is_error = body
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
        .and_then(|v| v.get("error").map(serde_json::Value::is_string))
        .unwrap_or(false);
    if !is_error {
        failures
            .push(format!("refusal body: expected {{\"error\": \"...\"}}, got {}", preview(body.unwrap_or_default())));
    }
    failures
}

/// The client closes with 1000; the server must answer 1000 and send nothing else first.
fn close_cleanly(socket: &mut tungstenite::WebSocket<TcpStream>) -> Vec<String> {
    let frame = CloseFrame { code: CloseCode::Normal, reason: "".into() };
    if let Err(e) = socket.close(Some(frame)) {
        return vec![format!("sending the close failed: {e}")];
    }
    match read_until_close(socket) {
        Ok((Some(1000), extra)) if extra.is_empty() => vec![],
        Ok((code, extra)) => {
            let mut failures: Vec<String> = extra.into_iter().map(|m| format!("unexpected message {m}")).collect();
            if code != Some(1000) {
                failures.push(format!("close: expected the server to answer 1000, got {code:?}"));
            }
            failures
        }
        Err(e) => vec![format!("close: expected the server to answer 1000, got {e}")],
    }
}

/// The server must close with `code` on its own, having sent nothing else.
fn await_server_close(socket: &mut tungstenite::WebSocket<TcpStream>, code: u16) -> Vec<String> {
    match read_until_close(socket) {
        Ok((got, extra)) => {
            let mut failures: Vec<String> = extra.into_iter().map(|m| format!("unexpected message {m}")).collect();
            if got != Some(code) {
                failures.push(format!("close: expected the server to close with {code}, got {got:?}"));
            }
            failures
        }
        Err(e) => vec![format!("close: expected the server to close with {code}, got {e}")],
    }
}

/// Reads to the close frame: its code (`None` for a close without one) and every data message
/// that came before it, described.
fn read_until_close(socket: &mut tungstenite::WebSocket<TcpStream>) -> Result<(Option<u16>, Vec<String>), String> {
    let mut extra = Vec::new();
    loop {
        match socket.read() {
            Ok(Message::Close(frame)) => return Ok((frame.map(|f| u16::from(f.code)), extra)),
            Ok(Message::Ping(_) | Message::Pong(_)) => {}
            Ok(other) => extra.push(describe_frame(&other)),
            Err(e) => return Err(e.to_string()),
        }
    }
}

fn to_frame(message: &WsMessage) -> Option<Message> {
    let payload = message.payload()?;
    Some(if message.is_binary() { Message::binary(payload) } else { Message::text(String::from_utf8(payload).ok()?) })
}

/// What differs between the message the contract wants and the frame that came, if anything.
fn message_difference(wanted: &WsMessage, got: &Message) -> Option<String> {
    let payload = wanted.payload().unwrap_or_default();
    let same = match got {
        Message::Text(text) => !wanted.is_binary() && text.as_bytes() == payload.as_slice(),
        Message::Binary(bytes) => wanted.is_binary() && bytes.as_ref() == payload.as_slice(),
        _ => false,
    };
    (!same).then(|| format!("expected {}, got {}", describe(wanted), describe_frame(got)))
}

fn describe(message: &WsMessage) -> String {
    let payload = message.payload().unwrap_or_default();
    let kind = if message.is_binary() { "binary" } else { "text" };
    format!("{kind} {}", preview(&payload))
}

fn describe_frame(message: &Message) -> String {
    match message {
        Message::Text(text) => format!("text {}", preview(text.as_bytes())),
        Message::Binary(bytes) => format!("binary {}", preview(bytes)),
        Message::Close(frame) => format!("close {:?}", frame.as_ref().map(|f| u16::from(f.code))),
        other => format!("{other:?}"),
    }
}

fn preview(bytes: &[u8]) -> String {
    if bytes.len() > 60 {
        format!("{:?}… ({} bytes)", String::from_utf8_lossy(&bytes[..60]), bytes.len())
    } else {
        format!("{:?}", String::from_utf8_lossy(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_binary_echo_of_a_text_message_is_a_difference() {
        let wanted = WsMessage::Text("hi".into());
        assert!(message_difference(&wanted, &Message::text("hi")).is_none());
        let diff = message_difference(&wanted, &Message::binary(b"hi".to_vec())).unwrap();
        assert!(diff.contains("expected text") && diff.contains("got binary"), "{diff}");
        assert!(message_difference(&wanted, &Message::text("ho")).is_some());
    }

    #[test]
    fn a_refusal_needs_the_status_and_an_error_body() {
        let example = WsExample { name: "x".into(), refused_status: Some(400), ..WsExample::default() };
        assert!(check_refusal(&example, 400, Some(br#"{"error":"bad name"}"#)).is_empty());
        assert_eq!(check_refusal(&example, 403, Some(br#"{"error":"bad name"}"#)).len(), 1);
        assert_eq!(check_refusal(&example, 400, Some(b"nope")).len(), 1);
        let upgrade_wanted = WsExample { name: "y".into(), ..WsExample::default() };
        assert!(check_refusal(&upgrade_wanted, 400, None)[0].contains("expected 101"));
    }
}
