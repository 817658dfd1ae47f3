//! A scripted HTTP/1.1 server on 127.0.0.1: each connection reads one request, records it, and gets
//! the next scripted reply (then the connection closes). Replies can stall or never come, to test
//! timeouts; recorded requests let tests check what the backend sent.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hypatia_llm::{ChatMessage, ChatRequest, Sampling};
use hypatia_openai::{OpenAiBackend, OpenAiConfig};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The recorded API captures (see `/work/shared/eval-data/SOURCES.md`), read in place.
pub fn fixtures_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("HYPATIA_API_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/shared/eval-data/api-fixtures"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipping: the API fixtures folder {} is missing (set HYPATIA_API_FIXTURES)",
            dir.display()
        );
        None
    }
}

pub fn read_fixture(dir: &std::path::Path, name: &str) -> String {
    let path = dir.join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("reading {}: {error}", path.display()))
}

#[derive(Debug, Clone)]
pub enum Reply {
    /// A body framed with `Content-Length`.
    Full {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// A chunked body, one write per piece; then the end of the body, or (`stall`) silence with the
    /// connection left open.
    Chunked {
        status: u16,
        headers: Vec<(String, String)>,
        chunks: Vec<Vec<u8>>,
        stall: bool,
    },
    /// The request is read and never answered.
    Silent,
}

impl Reply {
    pub fn json(status: u16, body: &str) -> Reply {
        Reply::Full {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    /// An SSE stream, one write per event (`data: …` lines are written as given, plus a blank line).
    pub fn sse(events: &[String]) -> Reply {
        Reply::Chunked {
            status: 200,
            headers: vec![("content-type".into(), "text/event-stream".into())],
            chunks: events.iter().map(|event| format!("{event}\n\n").into_bytes()).collect(),
            stall: false,
        }
    }

    pub fn stalling(self) -> Reply {
        match self {
            Reply::Chunked {
                status,
                headers,
                chunks,
                ..
            } => Reply::Chunked {
                status,
                headers,
                chunks,
                stall: true,
            },
            other => other,
        }
    }

    pub fn with_header(self, name: &str, value: &str) -> Reply {
        let add = |mut headers: Vec<(String, String)>| {
            headers.push((name.to_string(), value.to_string()));
            headers
        };
        match self {
            Reply::Full { status, headers, body } => Reply::Full {
                status,
                headers: add(headers),
                body,
            },
            Reply::Chunked {
                status,
                headers,
                chunks,
                stall,
            } => Reply::Chunked {
                status,
                headers: add(headers),
                chunks,
                stall,
            },
            Reply::Silent => Reply::Silent,
        }
    }

    /// A recorded raw HTTP response (status line, headers, body), re-framed for this connection: the
    /// recorded `content-length`/`transfer-encoding` are replaced, an event stream is sent event by event.
    pub fn from_http_capture(raw: &str) -> Reply {
        let (head, body) = raw
            .split_once("\r\n\r\n")
            .or_else(|| raw.split_once("\n\n"))
            .expect("a capture has a blank line after its headers");
        let mut lines = head.lines();
        let status: u16 = lines
            .next()
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|code| code.parse().ok())
            .expect("status line");
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_lowercase(), value.trim().to_string()))
            .filter(|(name, _)| !matches!(name.as_str(), "content-length" | "transfer-encoding" | "keep-alive"))
            .collect();
        let streaming = headers
            .iter()
            .any(|(name, value)| name == "content-type" && value.contains("event-stream"));
        if streaming {
            let chunks = body
                .split_inclusive("\n\n")
                .filter(|piece| !piece.is_empty())
                .map(|piece| piece.as_bytes().to_vec())
                .collect();
            Reply::Chunked {
                status,
                headers,
                chunks,
                stall: false,
            }
        } else {
            Reply::Full {
                status,
                headers,
                body: body.as_bytes().to_vec(),
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("the request body is JSON")
    }
}

pub struct MockServer {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    accept: JoinHandle<()>,
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl MockServer {
    pub async fn start(replies: Vec<Reply>) -> MockServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let replies = Arc::new(Mutex::new(VecDeque::from(replies)));
        let recorded = requests.clone();
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (recorded, replies) = (recorded.clone(), replies.clone());
                tokio::spawn(async move {
                    let _ = serve(stream, recorded, replies).await;
                });
            }
        });
        MockServer { addr, requests, accept }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests.lock().expect("requests lock").clone()
    }

    /// A configuration for this server that retries fast and gives up on hangs well within a test.
    pub fn config(&self) -> OpenAiConfig {
        let mut config = OpenAiConfig::new("test-model").with_base_url(self.base_url());
        config.initial_backoff = Duration::from_millis(10);
        config.max_backoff = Duration::from_millis(50);
        config.request_timeout = Duration::from_secs(20);
        config.idle_timeout = Duration::from_secs(20);
        config
    }

    pub fn backend(&self) -> OpenAiBackend {
        OpenAiBackend::new(self.config()).expect("backend")
    }
}

async fn serve(
    mut stream: TcpStream,
    recorded: Arc<Mutex<Vec<RecordedRequest>>>,
    replies: Arc<Mutex<VecDeque<Reply>>>,
) -> std::io::Result<()> {
    let Some(request) = read_request(&mut stream).await? else {
        return Ok(());
    };
    recorded.lock().expect("requests lock").push(request);
    let reply = replies.lock().expect("replies lock").pop_front().unwrap_or_else(|| {
        Reply::json(
            500,
            r#"{"error":{"message":"the test server has no scripted reply left"}}"#,
        )
    });
    match reply {
        Reply::Silent => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        Reply::Full { status, headers, body } => {
            let mut out = head(status, &headers);
            out.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
            stream.write_all(out.as_bytes()).await?;
            stream.write_all(&body).await?;
            stream.flush().await?;
        }
        Reply::Chunked {
            status,
            headers,
            chunks,
            stall,
        } => {
            let mut out = head(status, &headers);
            out.push_str("transfer-encoding: chunked\r\n\r\n");
            stream.write_all(out.as_bytes()).await?;
            stream.flush().await?;
            for chunk in chunks {
                stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await?;
                stream.write_all(&chunk).await?;
                stream.write_all(b"\r\n").await?;
                stream.flush().await?;
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            if stall {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
            stream.write_all(b"0\r\n\r\n").await?;
            stream.flush().await?;
        }
    }
    Ok(())
}

fn head(status: u16, headers: &[(String, String)]) -> String {
    let mut out = format!("HTTP/1.1 {status} {}\r\nconnection: close\r\n", reason(status));
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<RecordedRequest>> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let header_end = loop {
        if let Some(end) = data.windows(4).position(|window| window == b"\r\n\r\n") {
            break end;
        }
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..header_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_lowercase(), value.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0);
    let mut body = data[header_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    Ok(Some(RecordedRequest {
        method,
        path,
        headers,
        body,
    }))
}

/// A short chat request.
pub fn hello() -> ChatRequest {
    ChatRequest::new(vec![
        ChatMessage::system("Be brief."),
        ChatMessage::user("Hello, what's your name?"),
    ])
    .with_sampling(Sampling {
        temperature: 0.0,
        top_p: 1.0,
        seed: Some(1),
        max_tokens: 64,
        stop: Vec::new(),
    })
}

/// A complete non-streamed answer.
pub fn answer(text: &str) -> Reply {
    Reply::json(
        200,
        &serde_json::json!({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "test-model",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
        })
        .to_string(),
    )
}

/// `data: {chunk}` with one content delta.
pub fn delta(text: &str) -> String {
    format!(
        "data: {}",
        serde_json::json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "test-model",
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]})
    )
}

/// `data: {chunk}` that ends the answer.
pub fn finish(reason: &str) -> String {
    format!(
        "data: {}",
        serde_json::json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "test-model",
            "choices": [{"index": 0, "delta": {}, "finish_reason": reason}]})
    )
}

/// Fails a test that hangs instead of letting it run forever.
pub async fn within<T>(limit: Duration, work: impl Future<Output = T>) -> T {
    tokio::time::timeout(limit, work)
        .await
        .expect("the call should have ended long ago")
}
