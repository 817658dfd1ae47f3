//! `pull` against a loopback HTTP server that serves the tiny model, drops connections mid-file,
//! honours Range requests (or not), and serves things that are not models.

use std::sync::{Arc, Mutex};

use hypatia_models::{PullError, PullOutcome, PullSource, pull};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Clone, Copy)]
enum Behaviour {
    /// Sends half the file and closes on the first request; honours Range afterwards.
    DropThenResume,
    /// Serves the whole body every time, ignoring Range.
    Plain,
}

struct Server {
    base: String,
    requests: Arc<Mutex<Vec<String>>>,
}

async fn serve(body: Vec<u8>, behaviour: Behaviour) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&requests);
    let body = Arc::new(body);
    tokio::spawn(async move {
        let mut count = 0usize;
        while let Ok((mut socket, _)) = listener.accept().await {
            count += 1;
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                if socket.read(&mut byte).await.unwrap_or(0) == 0 {
                    break;
                }
                head.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&head).to_string();
            seen.lock().expect("lock").push(head.clone());
            let range_start = head
                .lines()
                .find_map(|line| {
                    line.to_ascii_lowercase()
                        .strip_prefix("range: bytes=")
                        .map(str::to_string)
                })
                .and_then(|range| range.trim_end_matches('-').parse::<usize>().ok());
            let response = match (behaviour, range_start) {
                (Behaviour::DropThenResume, _) if count == 1 => {
                    let header = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
                    let mut bytes = header.into_bytes();
                    bytes.extend_from_slice(&body[..body.len() / 2]);
                    bytes
                }
                (Behaviour::DropThenResume, Some(start)) => {
                    let rest = &body[start..];
                    let header = format!(
                        "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {start}-{}/{}\r\n\r\n",
                        rest.len(),
                        body.len() - 1,
                        body.len()
                    );
                    let mut bytes = header.into_bytes();
                    bytes.extend_from_slice(rest);
                    bytes
                }
                _ => {
                    let mut bytes = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
                    bytes.extend_from_slice(&body);
                    bytes
                }
            };
            let _ = socket.write_all(&response).await;
            let _ = socket.shutdown().await;
        }
    });
    Server { base, requests }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn no_progress(_: hypatia_models::PullProgress) {}

#[tokio::test]
async fn interrupted_download_resumes_with_range_and_is_verified() {
    let model = std::fs::read(hypatia_testkit::tiny_model()).expect("tiny model");
    let server = serve(model.clone(), Behaviour::DropThenResume).await;
    let dest = tempfile::tempdir().expect("tempdir");
    let source = PullSource::parse("hypatia/tiny/tiny.gguf", Some(&server.base)).expect("shorthand");
    let expected = sha256_hex(&model);
    let outcome = pull(&source, dest.path(), Some(&expected), None, &no_progress)
        .await
        .expect("pulled");
    let PullOutcome::Downloaded {
        path, bytes, sha256, ..
    } = outcome
    else {
        panic!("expected a download")
    };
    assert_eq!(sha256, expected);
    assert_eq!(bytes, model.len() as u64);
    assert_eq!(std::fs::read(&path).expect("read"), model);
    assert!(
        !dest.path().join("tiny.gguf.part").exists(),
        "the part file is renamed, not left behind"
    );
    let requests = server.requests.lock().expect("lock").clone();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert!(
        requests[0].starts_with("GET /hypatia/tiny/resolve/main/tiny.gguf "),
        "{}",
        requests[0]
    );
    let resumed_at = format!("range: bytes={}-", model.len() / 2);
    assert!(
        requests[1].to_ascii_lowercase().contains(&resumed_at),
        "{}",
        requests[1]
    );

    // A second pull finds the file and checks it.
    let again = pull(&source, dest.path(), Some(&expected), None, &no_progress)
        .await
        .expect("present");
    assert!(matches!(again, PullOutcome::AlreadyPresent { .. }));
}

#[tokio::test]
async fn checksum_mismatch_keeps_nothing() {
    let model = std::fs::read(hypatia_testkit::tiny_model()).expect("tiny model");
    let server = serve(model, Behaviour::Plain).await;
    let dest = tempfile::tempdir().expect("tempdir");
    let source = PullSource::parse(&format!("{}/files/m.gguf", server.base), None).expect("url");
    let wrong = "0".repeat(64);
    let error = pull(&source, dest.path(), Some(&wrong), None, &no_progress)
        .await
        .expect_err("mismatch");
    assert!(matches!(error, PullError::Checksum { .. }), "{error}");
    assert_eq!(
        std::fs::read_dir(dest.path()).expect("dir").count(),
        0,
        "nothing is kept"
    );
}

#[tokio::test]
async fn a_page_that_is_not_a_model_is_refused() {
    let server = serve(b"<html>Sign in to download</html>".to_vec(), Behaviour::Plain).await;
    let dest = tempfile::tempdir().expect("tempdir");
    let source = PullSource::parse(&format!("{}/m.gguf", server.base), None).expect("url");
    let error = pull(&source, dest.path(), None, None, &no_progress)
        .await
        .expect_err("not a model");
    assert!(matches!(error, PullError::NotAModel { .. }), "{error}");
    assert!(!dest.path().join("m.gguf").exists());
}

#[tokio::test]
async fn unreachable_server_is_an_error_not_a_hang() {
    let port = hypatia_testkit::free_port();
    let dest = tempfile::tempdir().expect("tempdir");
    let source = PullSource::parse(&format!("http://127.0.0.1:{port}/m.gguf"), None).expect("url");
    let error = pull(&source, dest.path(), None, None, &no_progress)
        .await
        .expect_err("refused");
    assert!(matches!(error, PullError::Http { .. }), "{error}");
    assert!(error.to_string().contains("127.0.0.1"), "{error}");
}

#[tokio::test]
async fn a_part_file_from_another_url_is_not_resumed() {
    let model = std::fs::read(hypatia_testkit::tiny_model()).expect("tiny model");
    let server = serve(model.clone(), Behaviour::DropThenResume).await;
    let dest = tempfile::tempdir().expect("tempdir");
    // Half of some other download under the same name.
    std::fs::write(dest.path().join("m.gguf.part"), vec![7u8; model.len() / 2]).expect("write part");
    std::fs::write(
        dest.path().join("m.gguf.part.origin"),
        "http://elsewhere.example/m.gguf\n\n",
    )
    .expect("write origin");
    let source = PullSource::parse(&format!("{}/m.gguf", server.base), None).expect("url");
    let outcome = pull(&source, dest.path(), None, None, &no_progress)
        .await
        .expect("pulled");
    let PullOutcome::Downloaded { path, .. } = outcome else {
        panic!("expected a download")
    };
    assert_eq!(
        std::fs::read(path).expect("read"),
        model,
        "the stale part must not be spliced in"
    );
    let requests = server.requests.lock().expect("lock").clone();
    assert!(!requests[0].to_ascii_lowercase().contains("range:"), "{}", requests[0]);
}
