//! A real OpenAI-compatible server on 127.0.0.1: llama-cpp-python's, serving a GGUF.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const STARTUP: Duration = Duration::from_secs(90);
/// Set in CI: a missing server is then a failure, not a skip.
pub const REQUIRE_ENV: &str = "HYPATIA_REQUIRE_OPENAI_SERVER";

/// The server process, killed when dropped (also when the test panics).
pub struct OpenAiServer {
    child: Child,
    base_url: String,
    model_id: String,
    logs: tempfile::TempDir,
}

impl Drop for OpenAiServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl OpenAiServer {
    /// Starts `python3 -m llama_cpp.server` on a free port and waits until `GET /v1/models` answers.
    /// `None` (with the reason printed) when llama-cpp-python is not installed, unless [`REQUIRE_ENV`]
    /// is `1`: then it panics.
    pub fn llama_cpp_python(model: &Path, context_tokens: u32) -> Option<OpenAiServer> {
        Self::llama_cpp_python_with(model, context_tokens, &[])
    }

    /// The server with embeddings on (`/v1/embeddings`), serving an embedding model.
    pub fn llama_cpp_python_embeddings(model: &Path, context_tokens: u32) -> Option<OpenAiServer> {
        let batch = context_tokens.to_string();
        Self::llama_cpp_python_with(
            model,
            context_tokens,
            &["--embedding", "true", "--n_batch", &batch, "--n_ubatch", &batch],
        )
    }

    /// As [`OpenAiServer::llama_cpp_python`], with more of the server's arguments.
    pub fn llama_cpp_python_with(model: &Path, context_tokens: u32, extra: &[&str]) -> Option<OpenAiServer> {
        if let Err(reason) = available() {
            if std::env::var(REQUIRE_ENV).as_deref() == Ok("1") {
                panic!("{REQUIRE_ENV}=1 but llama-cpp-python is not usable: {reason}");
            }
            eprintln!("skipping: {reason} (pip install 'llama-cpp-python[server]')");
            return None;
        }
        let port = free_port();
        let logs = tempfile::tempdir().expect("a folder for the server's logs");
        let stderr = std::fs::File::create(logs.path().join("stderr")).expect("server log file");
        let child = Command::new("python3")
            .args(["-m", "llama_cpp.server", "--model"])
            .arg(model)
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--n_ctx",
                &context_tokens.to_string(),
            ])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start python3 -m llama_cpp.server");
        let mut server = OpenAiServer {
            child,
            base_url: format!("http://127.0.0.1:{port}/v1"),
            model_id: String::new(),
            logs,
        };
        server.model_id = server.wait_until_ready(port);
        Some(server)
    }

    /// E.g. `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The model name the server answers to.
    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    /// The last lines the server wrote to stderr, for failure messages.
    pub fn stderr_tail(&self) -> String {
        let text = std::fs::read_to_string(self.logs.path().join("stderr")).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(40).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    fn wait_until_ready(&mut self, port: u16) -> String {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the server exited ({status}) before answering:\n{}", self.stderr_tail());
            }
            if let Some(body) = get(port, "/v1/models") {
                let models: serde_json::Value = serde_json::from_str(&body).expect("the model list is JSON");
                return models["data"][0]["id"].as_str().expect("a model id").to_string();
            }
            if started.elapsed() > STARTUP {
                panic!("the server did not answer within {STARTUP:?}:\n{}", self.stderr_tail());
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

fn available() -> Result<(), String> {
    match Command::new("python3").args(["-c", "import llama_cpp.server"]).output() {
        Ok(output) if output.status.success() => Ok(()),
        Ok(output) => Err(format!(
            "`python3 -c \"import llama_cpp.server\"` failed: {}",
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .last()
                .unwrap_or_default()
        )),
        Err(error) => Err(format!("cannot run python3: {error}")),
    }
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("address").port()
}

/// The body of a successful HTTP/1.0 GET, or `None`.
fn get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    let ok = head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200");
    ok.then(|| body.to_string())
}
