//! `tunevm serve`: the playground's static files on 127.0.0.1 with the
//! headers that make the page cross-origin isolated (COOP same-origin, COEP
//! require-corp), which the threaded wasm build needs for its
//! SharedArrayBuffer memory.
//!
//! Invariant: only files under the served directory are ever read; a path
//! with `..`, a backslash or a NUL is refused before it touches the disk.
use std::path::{Component, Path, PathBuf};

use tiny_http::{Header, Method, Response, Server, StatusCode};

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
    let server = Server::http(("127.0.0.1", args.port))
        .map_err(|e| UsageError(format!("cannot listen on 127.0.0.1:{}: {e}", args.port)))?;
    let port = server.server_addr().to_ip().map_or(args.port, |a| a.port());
    println!("tunevm: serving {} at http://127.0.0.1:{port}/", root.display());
    for request in server.incoming_requests() {
        let etag = request
            .headers()
            .iter()
            .find(|h| h.field.equiv("If-None-Match"))
            .map(|h| h.value.as_str().to_string());
        let response = respond(&root, request.method(), request.url(), etag.as_deref());
        // A client that went away is not the server's problem.
        let _ = request.respond(response);
    }
    Ok(0)
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("valid header")
}

/// A validator for a file's current contents: its size and modification time.
fn etag_of(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    let mtime = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?;
    Some(format!("\"{:x}-{:x}\"", meta.len(), mtime.as_nanos()))
}

/// The response to `method url`, with the isolation headers on every answer.
/// Files carry an ETag and `Cache-Control: no-cache`: the browser revalidates
/// every time (so a rebuilt page is seen at once) and gets `304 Not
/// Modified` without the body when nothing changed (the wasm is fetched by
/// the page and by its worker).
fn respond(
    root: &Path,
    method: &Method,
    url: &str,
    if_none_match: Option<&str>,
) -> Response<std::io::Cursor<Vec<u8>>> {
    let mut etag = None;
    let (status, body, mime) = match (method, file_for(root, url)) {
        (Method::Get | Method::Head, Some(path)) => {
            etag = etag_of(&path);
            if etag.is_some() && etag.as_deref() == if_none_match {
                (304, Vec::new(), mime_type(&path))
            } else {
                match std::fs::read(&path) {
                    Ok(bytes) => (200, bytes, mime_type(&path)),
                    Err(_) => (404, b"not found\n".to_vec(), "text/plain; charset=utf-8"),
                }
            }
        }
        (Method::Get | Method::Head, None) => {
            (404, b"not found\n".to_vec(), "text/plain; charset=utf-8")
        }
        _ => (405, b"method not allowed\n".to_vec(), "text/plain; charset=utf-8"),
    };
    let mut response = Response::from_data(body).with_status_code(StatusCode(status));
    for h in [
        header("Content-Type", mime),
        header("Cross-Origin-Opener-Policy", "same-origin"),
        header("Cross-Origin-Embedder-Policy", "require-corp"),
        header("Cross-Origin-Resource-Policy", "same-origin"),
        header("Cache-Control", "no-cache"),
    ] {
        response.add_header(h);
    }
    if let Some(etag) = etag {
        response.add_header(header("ETag", &etag));
    }
    response
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
