//! `tunevm serve`: the playground's files with the cross-origin isolation
//! headers, nothing outside the served directory, and no stall when a
//! browser opens a burst of connections at once (as Chromium does at a
//! page's first load). A client cannot hold the server's memory or threads:
//! head limits while reading, a deadline for the whole head, a bound on
//! connections.
#![cfg(not(target_arch = "wasm32"))]
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
    start_with(&[])
}

/// A server with `extra` arguments after the directory and `--port 0`.
fn start_with(extra: &[&str]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<!doctype html><p>hi</p>").unwrap();
    std::fs::create_dir(dir.path().join("pkg")).unwrap();
    for i in 0..8 {
        std::fs::write(dir.path().join(format!("pkg/m{i}.js")), vec![b'x'; 100_000]).unwrap();
    }
    std::fs::write(dir.path().join("pkg/a.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tunevm"))
        .args(["serve", dir.path().to_str().unwrap(), "--port", "0"])
        .args(extra)
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

/// Everything the server sends on `s` until it closes (a reset after some
/// bytes counts as the close), and how long that took; panics if it does
/// not close within `within`.
fn answer_and_close(s: &mut TcpStream, within: Duration) -> (String, Duration) {
    let started = Instant::now();
    s.set_read_timeout(Some(within)).unwrap();
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                panic!("not closed within {within:?}; got {:?}", String::from_utf8_lossy(&all))
            }
            Err(_) if !all.is_empty() => break,
            Err(e) => panic!("no answer: {e}"),
        }
        if started.elapsed() > within {
            panic!("not closed within {within:?}; got {:?}", String::from_utf8_lossy(&all));
        }
    }
    (String::from_utf8_lossy(&all).to_lowercase(), started.elapsed())
}

/// Send `prefix` and then `filler` bytes without a newline (1 MiB in all),
/// from another thread, ignoring the errors once the server closes; the
/// answer the server gives meanwhile.
fn send_oversized(port: u16, prefix: &'static [u8]) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut writer = s.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        let _ = writer.write_all(prefix);
        let chunk = vec![b'a'; 64 * 1024];
        for _ in 0..16 {
            if writer.write_all(&chunk).is_err() {
                break;
            }
        }
    });
    let (answer, took) = answer_and_close(&mut s, Duration::from_secs(2));
    assert!(took < Duration::from_secs(2), "{took:?}");
    drop(s);
    sender.join().unwrap();
    answer
}

#[test]
fn a_huge_request_line_is_refused_while_it_arrives() {
    let server = start();
    let answer = send_oversized(server.port, b"GET /");
    assert!(answer.starts_with("http/1.1 414"), "{answer}");
    assert!(answer.contains("connection: close"), "{answer}");
    let (head, _) = get(server.port, "/");
    assert!(head.starts_with("http/1.1 200"), "still serving: {head}");
}

#[test]
fn a_huge_header_is_refused_while_it_arrives() {
    let server = start();
    let answer = send_oversized(server.port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
    assert!(answer.starts_with("http/1.1 431"), "{answer}");
    // Many small headers adding up past the cap are refused the same way.
    let mut s = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    let mut request = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..2000 {
        request.extend_from_slice(format!("X-{i}: {}\r\n", "v".repeat(20)).as_bytes());
    }
    request.extend_from_slice(b"\r\n");
    let _ = s.write_all(&request);
    let (answer, _) = answer_and_close(&mut s, Duration::from_secs(2));
    assert!(answer.starts_with("http/1.1 431"), "{answer}");
    let (head, _) = get(server.port, "/");
    assert!(head.starts_with("http/1.1 200"), "still serving: {head}");
}

#[test]
fn a_slow_client_gets_a_deadline_for_the_whole_head() {
    let server = start_with(&["--head-timeout-ms", "1000"]);
    // One byte every 300 ms: each read succeeds in time, the whole never.
    let mut s = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    let connected = Instant::now();
    let mut writer = s.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        for &b in b"GET / HTTP/1.1\r\nX-Slow: abcdefghijklmnop".iter() {
            if writer.write_all(&[b]).is_err() || connected.elapsed() > Duration::from_secs(3) {
                break;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    });
    let (answer, _) = answer_and_close(&mut s, Duration::from_millis(2500));
    let took = connected.elapsed();
    assert!(answer.starts_with("http/1.1 408"), "{answer}");
    assert!(took >= Duration::from_millis(900) && took < Duration::from_millis(2000), "{took:?}");
    drop(s);
    sender.join().unwrap();
    // A connection that sends nothing is closed at the deadline, unanswered.
    let mut idle = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    let (answer, took) = answer_and_close(&mut idle, Duration::from_millis(2500));
    assert_eq!(answer, "");
    assert!(took < Duration::from_millis(2000), "{took:?}");
    // A prompt client is served as usual.
    let (head, _) = get(server.port, "/");
    assert!(head.starts_with("http/1.1 200"), "{head}");
}

#[test]
fn connections_beyond_the_bound_are_refused_at_once() {
    const BOUND: usize = 64;
    let server = start();
    // Idle connections hold their places (the head deadline is 10 s). The
    // server accepts in order, so all of them are counted before the next.
    let held: Vec<TcpStream> =
        (0..BOUND).map(|_| TcpStream::connect(("127.0.0.1", server.port)).unwrap()).collect();
    for _ in 0..3 {
        let mut extra = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        let (answer, took) = answer_and_close(&mut extra, Duration::from_secs(2));
        assert!(answer.starts_with("http/1.1 503"), "{answer}");
        assert!(answer.contains("retry-after: 1"), "{answer}");
        assert!(took < Duration::from_millis(500), "{took:?}");
    }
    drop(held);
    // The places come back as the server sees the closes.
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let (head, _) = get(server.port, "/");
        if head.starts_with("http/1.1 200") {
            break;
        }
        assert!(head.starts_with("http/1.1 503"), "{head}");
        assert!(Instant::now() < deadline, "places not given back: {head}");
        std::thread::sleep(Duration::from_millis(50));
    }
    // And a burst below the bound is served whole again.
    let port = server.port;
    let threads: Vec<_> = (0..8)
        .map(|i| std::thread::spawn(move || get(port, &format!("/pkg/m{i}.js")).1.len()))
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), 100_000);
    }
}
