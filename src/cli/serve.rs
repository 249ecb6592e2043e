//! `tunevm serve`: the playground's static files on 127.0.0.1 with the
//! headers that make the page cross-origin isolated (COOP same-origin, COEP
//! require-corp), which the threaded wasm build needs for its
//! SharedArrayBuffer memory.
//!
//! A small HTTP/1.1 server on `std::net`: one thread per connection, one
//! request per connection (`Connection: close`). tiny_http 0.12 was used
//! first and dropped: its thread pool queues a burst of new keep-alive
//! connections (a browser opens six at a page's first load) behind the
//! first ones, which stalled the page's first load until the browser closed
//! them (minutes; `tests/suite/serve.rs` has the burst).
//!
//! Invariant: only files under the served directory are ever read; a path
//! with `..`, a backslash or a NUL is refused before it touches the disk.
//!
//! Limits (a client cannot hold memory or threads for long):
//! - The request head is read into one buffer of at most [`MAX_HEAD`] + 1
//!   bytes, checked while it fills: a request line longer than
//!   [`MAX_LINE`] is answered `414 URI Too Long`, a head longer than
//!   [`MAX_HEAD`] `431 Request Header Fields Too Large`, both before more
//!   is read.
//! - The whole head must arrive within 10 s of the accept (hidden
//!   `--head-timeout-ms`, for tests), however slowly the bytes trickle in:
//!   each read waits only for what is left of that deadline. A connection
//!   that sent part of a head by then is answered `408 Request Timeout`;
//!   one that sent nothing (a browser's preconnect) is closed silently.
//! - Writing the whole response has its own deadline ([`WRITE_TIMEOUT`]).
//! - At most [`MAX_CONNECTIONS`] connections are served at once. A
//!   connection accepted beyond that is answered `503 Service Unavailable`
//!   (with `Retry-After: 1`) at once by the accepting thread, without
//!   reading its request, and closed: it neither waits nor gets a thread.
//!   A browser's burst (six to eight) is far below the bound.
//! - After an error answer the server stops sending, then reads and
//!   discards what the client still sends for at most [`LINGER`] (bounded
//!   in bytes too), so the client reads the answer instead of a reset.
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::UsageError;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// The directory to serve (scripts/build-web.sh builds it).
    #[arg(default_value = "dist")]
    dir: PathBuf,
    /// TCP port on 127.0.0.1; 0 picks a free one (the printed URL tells).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Milliseconds a client has from the accept to the end of its request
    /// head (tests shorten it).
    #[arg(long, default_value_t = 10_000, hide = true)]
    head_timeout_ms: u64,
}

pub fn serve(args: ServeArgs) -> Result<i32, UsageError> {
    let root = args.dir.canonicalize().map_err(|e| {
        UsageError(format!(
            "cannot serve {}: {e} (build the page first: scripts/build-web.sh)",
            args.dir.display()
        ))
    })?;
    if !root.join("index.html").is_file() {
        return Err(UsageError(format!(
            "cannot serve {}: it has no index.html (build the page first: scripts/build-web.sh)",
            root.display()
        )));
    }
    let listener = TcpListener::bind(("127.0.0.1", args.port))
        .map_err(|e| UsageError(format!("cannot listen on 127.0.0.1:{}: {e}", args.port)))?;
    let port = listener.local_addr().map_or(args.port, |a| a.port());
    println!("tunevm: serving {} at http://127.0.0.1:{port}/", root.display());
    let _ = std::io::stdout().flush();
    let root = Arc::new(root);
    let head_timeout = Duration::from_millis(args.head_timeout_ms.max(1));
    let active = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming().flatten() {
        let accepted = Instant::now();
        // Only this thread adds to `active`, so the bound holds exactly.
        if active.load(Ordering::Acquire) >= MAX_CONNECTIONS {
            reject_busy(stream);
            continue;
        }
        active.fetch_add(1, Ordering::AcqRel);
        let slot = Slot(Arc::clone(&active));
        let root = Arc::clone(&root);
        let spawned = std::thread::Builder::new().spawn(move || {
            let _slot = slot;
            // A client that goes away or sends garbage is not the server's
            // problem: drop the connection.
            let _ = handle(&root, stream, accepted + head_timeout);
        });
        // No thread (out of resources): the closure, its slot and the
        // stream were dropped with the error.
        drop(spawned);
    }
    Ok(0)
}

/// Connections served at once; more are answered 503.
const MAX_CONNECTIONS: usize = 64;

/// Longest request line accepted (method, target, version).
const MAX_LINE: usize = 8 * 1024;

/// Largest request head accepted (request line and headers).
const MAX_HEAD: usize = 16 * 1024;

/// Time to write one whole response.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// How long, and how many bytes, the server reads and discards after an
/// error answer before it closes (see the module doc).
const LINGER: Duration = Duration::from_millis(500);
const LINGER_BYTES: usize = 1 << 20;

/// One of the [`MAX_CONNECTIONS`] places, given back when dropped.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

const TEXT: &str = "text/plain; charset=utf-8";

/// Answer a connection beyond [`MAX_CONNECTIONS`] on the accepting thread:
/// a small answer into an empty send buffer does not block (the timeout is
/// a guard).
fn reject_busy(stream: TcpStream) {
    let deadline = Instant::now() + Duration::from_millis(100);
    let _ = write_response(&stream, 503, TEXT, None, b"busy, retry\n", true, deadline);
    let _ = stream.shutdown(Shutdown::Write);
    // Whatever request already arrived is read (without waiting) so closing
    // does not reset the connection under the answer.
    if stream.set_nonblocking(true).is_ok() {
        let mut scratch = [0u8; 4096];
        let mut stream = &stream;
        for _ in 0..16 {
            match stream.read(&mut scratch) {
                Ok(n) if n > 0 => {}
                _ => break,
            }
        }
    }
}

/// How reading the request head ended.
enum Head {
    /// The head, up to and including its empty line (or all that came
    /// before the client stopped sending).
    Complete(Vec<u8>),
    /// An error status to answer with (414, 431, 408).
    Refused(u16),
    /// Nothing to answer: the client sent nothing, or the connection failed.
    Nothing,
}

/// Read the request head from `stream` by `deadline`, never holding more
/// than [`MAX_HEAD`] + 1 bytes.
fn read_head(mut stream: &TcpStream, deadline: Instant) -> Head {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    // Where the line being read starts, and whether it is the request line.
    let mut line_start = 0;
    let mut in_request_line = true;
    loop {
        let now = Instant::now();
        if now >= deadline {
            return if buf.is_empty() { Head::Nothing } else { Head::Refused(408) };
        }
        if stream.set_read_timeout(Some(deadline - now)).is_err() {
            return Head::Nothing;
        }
        let room = (MAX_HEAD + 1 - buf.len()).min(chunk.len());
        let n = match stream.read(&mut chunk[..room]) {
            Ok(0) => {
                // The client stopped sending: answer what came, as before.
                return if buf.is_empty() { Head::Nothing } else { Head::Complete(buf) };
            }
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return if buf.is_empty() { Head::Nothing } else { Head::Refused(408) };
            }
            Err(_) => return Head::Nothing,
        };
        let scanned = buf.len();
        buf.extend_from_slice(&chunk[..n]);
        for i in scanned..buf.len() {
            if buf[i] != b'\n' {
                continue;
            }
            let line = &buf[line_start..i];
            if in_request_line {
                if line.len() > MAX_LINE {
                    return Head::Refused(414);
                }
                in_request_line = false;
            } else if line.is_empty() || line == b"\r" {
                if i >= MAX_HEAD {
                    return Head::Refused(431);
                }
                buf.truncate(i + 1);
                return Head::Complete(buf);
            }
            line_start = i + 1;
        }
        if in_request_line && buf.len() > MAX_LINE {
            return Head::Refused(414);
        }
        if buf.len() > MAX_HEAD {
            return Head::Refused(431);
        }
    }
}

/// Read one request from `stream` (its head by `head_deadline`), answer it
/// and close.
fn handle(root: &Path, stream: TcpStream, head_deadline: Instant) -> std::io::Result<()> {
    let head = match read_head(&stream, head_deadline) {
        Head::Complete(head) => head,
        Head::Nothing => return Ok(()),
        Head::Refused(status) => {
            let body: &[u8] = match status {
                408 => b"request head too slow\n",
                414 => b"request line too long\n",
                _ => b"request head too large\n",
            };
            let result = write_response(
                &stream,
                status,
                TEXT,
                None,
                body,
                true,
                Instant::now() + WRITE_TIMEOUT,
            );
            linger(&stream);
            return result;
        }
    };
    let head = String::from_utf8_lossy(&head);
    let mut lines = head.lines();
    let request_line = lines.next().unwrap_or("");
    let mut if_none_match = None;
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("if-none-match") {
                if_none_match = Some(value.trim().to_string());
            }
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, url) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let answer = respond(root, method, url, if_none_match.as_deref());
    write_response(
        &stream,
        answer.status,
        answer.mime,
        answer.etag.as_deref(),
        &answer.body,
        method != "HEAD",
        Instant::now() + WRITE_TIMEOUT,
    )
}

/// After an error answer: stop sending, then read and discard what the
/// client is still sending, for at most [`LINGER`] and [`LINGER_BYTES`].
fn linger(mut stream: &TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let end = Instant::now() + LINGER;
    let mut scratch = [0u8; 4096];
    let mut drained = 0;
    while drained < LINGER_BYTES {
        let now = Instant::now();
        if now >= end || stream.set_read_timeout(Some(end - now)).is_err() {
            break;
        }
        match stream.read(&mut scratch) {
            Ok(0) | Err(_) => break,
            Ok(n) => drained += n,
        }
    }
}

/// What to answer to one request.
struct Answer {
    status: u16,
    mime: &'static str,
    etag: Option<String>,
    body: Vec<u8>,
}

#[allow(clippy::too_many_arguments)]
fn write_response(
    stream: &TcpStream,
    status: u16,
    mime: &str,
    etag: Option<&str>,
    body: &[u8],
    with_body: bool,
    deadline: Instant,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        304 => "Not Modified",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        414 => "URI Too Long",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Bad Request",
    };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\n\
         Content-Type: {mime}\r\n\
         Content-Length: {}\r\n\
         Cross-Origin-Opener-Policy: same-origin\r\n\
         Cross-Origin-Embedder-Policy: require-corp\r\n\
         Cross-Origin-Resource-Policy: same-origin\r\n\
         Cache-Control: no-cache\r\n\
         Connection: close\r\n",
        body.len()
    );
    if let Some(etag) = etag {
        head.push_str(&format!("ETag: {etag}\r\n"));
    }
    if status == 503 {
        head.push_str("Retry-After: 1\r\n");
    }
    head.push_str("\r\n");
    write_all_by(stream, head.as_bytes(), deadline)?;
    if with_body {
        write_all_by(stream, body, deadline)?;
    }
    Ok(())
}

/// `write_all` that gives up at `deadline` however slowly the client reads
/// (a timeout per write alone would let it take a byte at a time for ever).
fn write_all_by(
    mut stream: &TcpStream,
    mut bytes: &[u8],
    deadline: Instant,
) -> std::io::Result<()> {
    while !bytes.is_empty() {
        let now = Instant::now();
        if now >= deadline {
            return Err(ErrorKind::TimedOut.into());
        }
        stream.set_write_timeout(Some(deadline - now))?;
        match stream.write(bytes) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A validator for a file's current contents: its size and modification time.
fn etag_of(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    let mtime = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?;
    Some(format!("\"{:x}-{:x}\"", meta.len(), mtime.as_nanos()))
}

/// The answer to `method url`. Files carry an ETag and `Cache-Control:
/// no-cache`: the browser revalidates every time (so a rebuilt page is seen
/// at once) and gets `304 Not Modified` without the body when nothing
/// changed.
fn respond(root: &Path, method: &str, url: &str, if_none_match: Option<&str>) -> Answer {
    let text = "text/plain; charset=utf-8";
    let not_found =
        || Answer { status: 404, mime: text, etag: None, body: b"not found\n".to_vec() };
    if method != "GET" && method != "HEAD" {
        return Answer {
            status: 405,
            mime: text,
            etag: None,
            body: b"method not allowed\n".to_vec(),
        };
    }
    let Some(path) = file_for(root, url) else {
        return not_found();
    };
    let etag = etag_of(&path);
    let mime = mime_type(&path);
    if etag.is_some() && etag.as_deref() == if_none_match {
        return Answer { status: 304, mime, etag, body: Vec::new() };
    }
    match std::fs::read(&path) {
        Ok(body) => Answer { status: 200, mime, etag, body },
        Err(_) => not_found(),
    }
}

/// The file `url` names under `root` (`/` and directories mean their
/// index.html), or `None` if it names nothing there or tries to leave it.
fn file_for(root: &Path, url: &str) -> Option<PathBuf> {
    let path = url.split(['?', '#']).next().unwrap_or("");
    let path = percent_decode(path)?;
    if path.contains('\\') || path.contains('\0') {
        return None;
    }
    let mut file = root.to_path_buf();
    for component in Path::new(path.trim_start_matches('/')).components() {
        match component {
            Component::Normal(part) => file.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    if file.is_dir() {
        file.push("index.html");
    }
    file.is_file().then_some(file)
}

/// `%XX` escapes decoded; `None` for a malformed escape or non-UTF-8 result.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn mime_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "txt" | "out" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_leave_the_root() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "hi").unwrap();
        std::fs::create_dir(dir.path().join("pkg")).unwrap();
        std::fs::write(dir.path().join("pkg/a.wasm"), "x").unwrap();
        let root = dir.path();
        assert_eq!(file_for(root, "/"), Some(root.join("index.html")));
        assert_eq!(file_for(root, "/?workload=hello"), Some(root.join("index.html")));
        assert_eq!(file_for(root, "/pkg/a.wasm"), Some(root.join("pkg/a.wasm")));
        assert_eq!(file_for(root, "/pkg/%61.wasm"), Some(root.join("pkg/a.wasm")));
        for bad in [
            "/../etc/passwd",
            "/pkg/../../x",
            "/%2e%2e/x",
            "/pkg/%2E%2E/%2E%2E/x",
            "/a%5cb",
            "/%zz",
        ] {
            assert_eq!(file_for(root, bad), None, "{bad}");
        }
        assert_eq!(mime_type(Path::new("x.wasm")), "application/wasm");
    }
}
