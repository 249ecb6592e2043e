//! `tunevm serve`: the playground's files with the cross-origin isolation
//! headers, nothing outside the served directory, and no stall when a
//! browser opens a burst of connections at once (as Chromium does at a
//! page's first load).
#![cfg(not(target_arch = "wasm32"))]
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Server {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<!doctype html><p>hi</p>").unwrap();
    std::fs::create_dir(dir.path().join("pkg")).unwrap();
    for i in 0..8 {
        std::fs::write(dir.path().join(format!("pkg/m{i}.js")), vec![b'x'; 100_000]).unwrap();
    }
    std::fs::write(dir.path().join("pkg/a.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tunevm"))
        .args(["serve", dir.path().to_str().unwrap(), "--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let port = line
        .trim()
        .rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    Server { child, port, _dir: dir }
}

/// GET `path` on a keep-alive connection; the response head and body.
fn get(port: u16, path: &str) -> (String, Vec<u8>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n").unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap_or_else(|e| panic!("GET {path}: no full answer: {e}"));
    let split = all.windows(4).position(|w| w == b"\r\n\r\n").expect("a header");
    (String::from_utf8_lossy(&all[..split]).to_lowercase(), all[split + 4..].to_vec())
}

#[test]
fn files_come_with_isolation_headers_and_their_types() {
    let server = start();
    let (head, body) = get(server.port, "/");
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("cross-origin-opener-policy: same-origin"), "{head}");
    assert!(head.contains("cross-origin-embedder-policy: require-corp"), "{head}");
    assert!(head.contains("content-type: text/html"), "{head}");
    assert_eq!(body, b"<!doctype html><p>hi</p>");
    let (head, _) = get(server.port, "/pkg/a.wasm");
    assert!(head.contains("content-type: application/wasm"), "{head}");
    for bad in ["/../Cargo.toml", "/pkg/../../etc/passwd", "/%2e%2e/x", "/nothing"] {
        let (head, _) = get(server.port, bad);
        assert!(head.starts_with("http/1.1 404"), "{bad}: {head}");
    }
}

#[test]
fn a_burst_of_connections_is_answered_at_once() {
    let server = start();
    let port = server.port;
    let threads: Vec<_> = (0..8)
        .map(|i| std::thread::spawn(move || get(port, &format!("/pkg/m{i}.js")).1.len()))
        .collect();
    for t in threads {
        assert_eq!(t.join().expect("answered within 5 s"), 100_000);
    }
}
