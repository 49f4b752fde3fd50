//! A minimal blocking HTTP/1.1 keep-alive client over one `std::net::TcpStream`, so the
//! endpoint benches time the app, not a client library: the request bytes are encoded once,
//! and a round trip is one `write_all` plus reading one response (Content-Length or chunked).
//! It speaks only what the contract's examples need; conformance is `claimbench verify`'s job.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};

/// One request, encoded once.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET /cpu/fib?n=20`, for messages.
    pub line: String,
    pub bytes: Vec<u8>,
}

impl Request {
    /// Encodes `method path` with `Host`, and a body with its type and length when given.
    pub fn new(method: &str, path: &str, host: &str, body: Option<(&str, &[u8])>) -> Request {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nAccept: */*\r\n");
        if let Some((content_type, body)) = body {
            head.push_str(&format!("Content-Type: {content_type}\r\nContent-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        if let Some((_, body)) = body {
            bytes.extend_from_slice(body);
        }
        Request { line: format!("{method} {path}"), bytes }
    }
}

/// What the bench looks at in a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body_len: usize,
}

/// One keep-alive connection; reconnects once if the server closed it between requests.
pub struct Client {
    addr: SocketAddr,
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> io::Result<Client> {
        Ok(Client { addr, stream: open(addr)?, buf: Vec::with_capacity(64 * 1024) })
    }

    /// Sends the request and reads the whole response.
    pub fn send(&mut self, request: &Request) -> io::Result<Response> {
        match self.round_trip(request) {
            Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => {
                self.stream = open(self.addr)?;
                self.round_trip(request)
            }
            other => other,
        }
    }

    fn round_trip(&mut self, request: &Request) -> io::Result<Response> {
        self.stream.write_all(&request.bytes)?;
        self.buf.clear();
        let head_end = loop {
            if let Some(at) = find(&self.buf, b"\r\n\r\n") {
                break at + 4;
            }
            if self.fill()? == 0 {
                // Closed before a response: a keep-alive connection the server dropped.
                return Err(io::ErrorKind::ConnectionAborted.into());
            }
        };
        let head = std::str::from_utf8(&self.buf[..head_end]).map_err(|_| invalid("the response head is not UTF-8"))?;
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .ok_or_else(|| invalid("no status code in the response"))?;
        let mut length = None;
        let mut chunked = false;
        let mut close = false;
        for line in head.split("\r\n").skip(1) {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse::<usize>().ok();
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
            } else if name.eq_ignore_ascii_case("connection") {
                close = value.eq_ignore_ascii_case("close");
            }
        }
        let body_len = if chunked {
            self.read_chunked(head_end)?
        } else {
            let length = length.ok_or_else(|| invalid("a response without a length"))?;
            while self.buf.len() < head_end + length {
                if self.fill()? == 0 {
                    return Err(invalid("the connection closed inside a body"));
                }
            }
            length
        };
        if close {
            self.stream = open(self.addr)?;
        }
        Ok(Response { status, body_len })
    }

    /// Reads a chunked body that starts at `at`; returns its decoded length.
    fn read_chunked(&mut self, mut at: usize) -> io::Result<usize> {
        let mut total = 0;
        loop {
            let line_end = loop {
                if let Some(end) = find(&self.buf[at..], b"\r\n") {
                    break at + end;
                }
                if self.fill()? == 0 {
                    return Err(invalid("the connection closed inside a chunk size"));
                }
            };
            let size_text =
                std::str::from_utf8(&self.buf[at..line_end]).map_err(|_| invalid("a chunk size is not text"))?;
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| invalid("a chunk size is not hexadecimal"))?;
            // The chunk and its CRLF; the last chunk is followed by an empty trailer line.
            let next = line_end + 2 + size + 2;
            while self.buf.len() < next {
                if self.fill()? == 0 {
                    return Err(invalid("the connection closed inside a chunk"));
                }
            }
            if size == 0 {
                return Ok(total);
            }
            total += size;
            at = next;
        }
    }

    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }
}

fn open(addr: SocketAddr) -> io::Result<TcpStream> {
    let stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_string())
}
