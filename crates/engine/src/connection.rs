//! One keep-alive HTTP/1.1 client connection: TCP, byte counting and the hyper handshake.
//!
//! Each virtual connection of the pool owns one of these at a time; the worker replaces it when
//! the server closes it or a request on it times out. Bytes are counted at the socket, so they
//! include headers, and the counts survive reconnections. Which request to send and what to
//! record is the worker's business.

use std::cell::Cell;
use std::future::{poll_fn, Future};
use std::io;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::collector::ErrorClass;

/// Bytes read and written by every connection a virtual connection has had.
#[derive(Debug, Default)]
pub(crate) struct IoCounters {
    pub read: Cell<u64>,
    pub written: Cell<u64>,
}

/// A live connection: the handle to send on and the state machine that moves the bytes.
/// Dropping it closes the socket.
pub(crate) struct Connection {
    pub sender: http1::SendRequest<Full<Bytes>>,
    pub driver: Driver,
}

/// Drives one connection's reads and writes inside the task that uses it, rather than in a task
/// of its own: one task per connection halves the wake-ups per request.
pub(crate) struct Driver {
    conn: Pin<Box<http1::Connection<TokioIo<Counted>, Full<Bytes>>>>,
    done: bool,
}

/// The connection ended (closed by the server or broken) before the future it drove did.
#[derive(Debug)]
pub(crate) struct Closed;

impl Driver {
    /// Runs `fut` (which sends on this connection or reads its response) while driving the
    /// connection, until `fut` completes or the connection ends.
    pub async fn run<F: Future>(&mut self, fut: F) -> Result<F::Output, Closed> {
        let mut fut = pin!(fut);
        poll_fn(|cx| {
            if let Poll::Ready(out) = fut.as_mut().poll(cx) {
                return Poll::Ready(Ok(out));
            }
            if self.done {
                return Poll::Ready(Err(Closed));
            }
            if self.conn.as_mut().poll(cx).is_ready() {
                self.done = true;
            }
            // Driving may have just completed what `fut` waits for; ask again before sleeping.
            match fut.as_mut().poll(cx) {
                Poll::Ready(out) => Poll::Ready(Ok(out)),
                Poll::Pending if self.done => Poll::Ready(Err(Closed)),
                Poll::Pending => Poll::Pending,
            }
        })
        .await
    }
}

/// Opens a connection.
pub(crate) async fn open(addr: SocketAddr, counters: Rc<IoCounters>) -> io::Result<Connection> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let io = TokioIo::new(Counted::new(stream, counters));
    let (sender, conn) = http1::handshake(io).await.map_err(io::Error::other)?;
    Ok(Connection { sender, driver: Driver { conn: Box::pin(conn), done: false } })
}

/// The class of a failed exchange.
pub(crate) fn classify(e: &hyper::Error) -> ErrorClass {
    if e.is_timeout() {
        ErrorClass::Timeout
    } else if e.is_parse() || e.is_parse_status() || e.is_user() {
        ErrorClass::Other
    } else {
        // Closed, canceled, incomplete message, and plain I/O errors such as a reset.
        ErrorClass::Reset
    }
}

/// A TCP stream that counts the bytes through it.
pub(crate) struct Counted {
    inner: TcpStream,
    counters: Rc<IoCounters>,
}

impl Counted {
    /// Counts the bytes of `inner` into `counters`.
    pub fn new(inner: TcpStream, counters: Rc<IoCounters>) -> Counted {
        Counted { inner, counters }
    }

    fn wrote(&self, r: &Poll<io::Result<usize>>) {
        if let Poll::Ready(Ok(n)) = r {
            self.counters.written.set(self.counters.written.get() + *n as u64);
        }
    }
}

impl AsyncRead for Counted {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        let n = (buf.filled().len() - before) as u64;
        this.counters.read.set(this.counters.read.get() + n);
        r
    }
}

impl AsyncWrite for Counted {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.wrote(&r);
        r
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.wrote(&r);
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
