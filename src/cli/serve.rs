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
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::UsageError;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// The directory to serve (scripts/build-web.sh builds it).
    #[arg(default_value = "dist")]
    dir: PathBuf,
    /// TCP port on 127.0.0.1; 0 picks a free one (the printed URL tells).
    #[arg(long, default_value_t = 8080)]
    port: u16,
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
    for stream in listener.incoming().flatten() {
        let root = Arc::clone(&root);
        std::thread::spawn(move || {
            // A client that goes away or sends garbage is not the server's
            // problem: drop the connection.
            let _ = handle(&root, stream);
        });
    }
    Ok(0)
}

/// Largest request head accepted (request line and headers).
const MAX_HEAD: usize = 16 * 1024;

/// Read one request from `stream`, answer it and close.
fn handle(root: &Path, stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut if_none_match = None;
    let mut head = request_line.len();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        head += line.len();
        if head > MAX_HEAD {
            return write_response(
                &stream,
                431,
                "text/plain; charset=utf-8",
                None,
                b"too large\n",
                true,
            );
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
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
    )
}

/// What to answer to one request.
struct Answer {
    status: u16,
    mime: &'static str,
    etag: Option<String>,
    body: Vec<u8>,
}

fn write_response(
    mut stream: &TcpStream,
    status: u16,
    mime: &str,
    etag: Option<&str>,
    body: &[u8],
    with_body: bool,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        304 => "Not Modified",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Request Header Fields Too Large",
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
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    if with_body {
        stream.write_all(body)?;
    }
    stream.flush()
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
