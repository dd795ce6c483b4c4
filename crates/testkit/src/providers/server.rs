//! A small HTTP/1.1 server on std threads for the provider stubs: one thread per
//! connection, keep-alive, `Content-Length` bodies only.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

use crate::TestkitError;

/// Largest request body accepted.
const MAX_BODY: usize = 1 << 20;

/// One parsed request.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// The query (after `?`), as sent; empty when none.
    pub query: String,
    /// Header names in lower case.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// What the handler wants done with a request.
pub(crate) enum Reply {
    /// Answer with this status and JSON body.
    Json(u16, String),
    /// Close the connection without answering.
    Drop,
    /// Wait, then answer.
    Delayed(Duration, Box<Reply>),
}

pub(crate) type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// A running server; stops accepting when dropped.
pub(crate) struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Server {
    pub fn start(handler: Arc<Handler>) -> Result<Self, TestkitError> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .map_err(|e| TestkitError::io("binding a loopback port for a provider stub", e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| TestkitError::io("reading the stub's address", e))?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop_flag = Arc::clone(&stop);
        thread::Builder::new()
            .name(format!("stub-{}", addr.port()))
            .spawn(move || {
                for stream in listener.incoming() {
                    if stop_flag.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let handler = Arc::clone(&handler);
                    let stop = Arc::clone(&stop_flag);
                    let _ = thread::Builder::new()
                        .name("stub-conn".into())
                        .spawn(move || serve(stream, &*handler, &stop));
                }
            })
            .map_err(|e| TestkitError::io("starting the stub's accept thread", e))?;
        Ok(Self { addr, stop })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// A stub's state behind its lock and the server answering from it: what every provider
/// stub is made of. Clones share both.
pub(crate) struct Stub<S> {
    state: Arc<Mutex<S>>,
    server: Arc<Server>,
}

impl<S> Clone for Stub<S> {
    fn clone(&self) -> Self {
        Self {
            state: Arc::clone(&self.state),
            server: Arc::clone(&self.server),
        }
    }
}

impl<S: Send + 'static> Stub<S> {
    /// Starts a server on a free loopback port that answers each request with
    /// `handle(state, request)`.
    pub fn start(state: S, handle: fn(&Mutex<S>, &Request) -> Reply) -> Result<Self, TestkitError> {
        let state = Arc::new(Mutex::new(state));
        let handler_state = Arc::clone(&state);
        let server = Server::start(Arc::new(move |request: &Request| {
            handle(&handler_state, request)
        }))?;
        Ok(Self {
            state,
            server: Arc::new(server),
        })
    }

    /// The state; a panic in another holder does not lock it away.
    pub fn lock(&self) -> MutexGuard<'_, S> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

fn serve(stream: TcpStream, handler: &Handler, stop: &AtomicBool) {
    let _ = stream.set_nodelay(true);
    // Idle keep-alive connections wake up now and then to notice a stopped server.
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let request = match read_request(&mut reader, stop) {
            Ok(Some(r)) => r,
            Ok(None) => return,
            Err(_) => {
                let _ = respond(&mut writer, 400, "{\"error\":\"bad request\"}", true);
                return;
            }
        };
        let close = request
            .header("connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"));
        let mut reply = handler(&request);
        loop {
            match reply {
                Reply::Delayed(pause, inner) => {
                    thread::sleep(pause);
                    reply = *inner;
                }
                Reply::Drop => {
                    let _ = writer.shutdown(Shutdown::Both);
                    return;
                }
                Reply::Json(status, body) => {
                    if respond(&mut writer, status, &body, close).is_err() || close {
                        return;
                    }
                    break;
                }
            }
        }
    }
}

/// Reads one request; `None` when the peer closed (or the server stopped) between
/// requests.
fn read_request(
    reader: &mut BufReader<TcpStream>,
    stop: &AtomicBool,
) -> io::Result<Option<Request>> {
    let mut line = String::new();
    loop {
        match reader.read_line(&mut line) {
            Ok(0) => return Ok(None),
            Ok(_) => break,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                if line.is_empty() && stop.load(Ordering::SeqCst) {
                    return Ok(None);
                }
            }
            Err(e) => return Err(e),
        }
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let (path, query) = (path.to_owned(), query.to_owned());
    let mut headers = BTreeMap::new();
    loop {
        let mut header = String::new();
        if read_line_patiently(reader, &mut header)? == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "headers cut"));
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    if headers
        .get("transfer-encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "chunked bodies unsupported",
        ));
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    if length > MAX_BODY {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "body too large"));
    }
    let mut body = vec![0; length];
    let mut filled = 0;
    while filled < length {
        match reader.read(&mut body[filled..]) {
            Ok(0) => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "body cut")),
            Ok(n) => filled += n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Some(Request {
        method,
        path,
        query,
        headers,
        body,
    }))
}

fn read_line_patiently(reader: &mut BufReader<TcpStream>, line: &mut String) -> io::Result<usize> {
    loop {
        match reader.read_line(line) {
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            other => return other,
        }
    }
}

fn respond(writer: &mut TcpStream, status: u16, body: &str, close: bool) -> io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: {}\r\n\r\n",
        body.len(),
        if close { "close" } else { "keep-alive" }
    );
    writer.write_all(head.as_bytes())?;
    writer.write_all(body.as_bytes())?;
    writer.flush()
}
