//! A real browser for tests: Debian's headless Chromium renders a page, takes a screenshot and dumps
//! the DOM after scripts would have run. Every request it makes goes to a proxy on 127.0.0.1 that
//! answers none of them and records each one, so a test can see whether a page tried to fetch anything.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Set (as `.ci/run` does) to fail, not skip, the browser tests when Chromium is missing.
pub const REQUIRE_BROWSER_ENV: &str = "HYPATIA_REQUIRE_CHROMIUM";

const CANDIDATES: &[&str] = &["chromium", "chromium-browser", "google-chrome", "/usr/bin/chromium"];
/// A hung browser fails the test instead of hanging it.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(90);

pub struct Browser {
    program: PathBuf,
}

/// Hosts Chromium itself calls at start-up whatever the page (its clock, component updates, sign-in),
/// even with background networking disabled. Requests to them are not the page's.
const BROWSER_SERVICE_HOSTS: &[&str] = &[
    "clients1.google.com",
    "clients2.google.com",
    "update.googleapis.com",
    "accounts.google.com",
    "safebrowsing.googleapis.com",
    "optimizationguide-pa.googleapis.com",
    "redirector.gvt1.com",
];

/// What a page did in the browser.
#[derive(Debug)]
pub struct Rendered {
    /// The DOM serialised after load (and after any script had its chance to run).
    pub dom: String,
    /// The first line of every request made while loading the page, the browser's own excepted.
    pub requests: Vec<String>,
    /// Chromium's own start-up requests, kept apart.
    pub browser_requests: Vec<String>,
}

impl Browser {
    /// Chromium if installed; otherwise `None` after saying why the test skips (or a panic when
    /// [`REQUIRE_BROWSER_ENV`] is set).
    pub fn for_test(test: &str) -> Option<Browser> {
        for candidate in CANDIDATES {
            let works = Command::new(candidate)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if works {
                return Some(Browser {
                    program: PathBuf::from(candidate),
                });
            }
        }
        if std::env::var_os(REQUIRE_BROWSER_ENV).is_some() {
            panic!("{test}: {REQUIRE_BROWSER_ENV} is set but no Chromium runs here (apt-get install chromium)");
        }
        eprintln!("skipping {test}: Chromium is not installed (apt-get install chromium)");
        None
    }

    /// Renders `page`: a screenshot to `screenshot` (PNG, 1280 px wide), then the DOM.
    pub fn render(&self, page: &Path, screenshot: &Path, height: u32) -> Rendered {
        let proxy = RecordingProxy::start();
        let url = format!("file://{}", page.display());
        let profile = tempfile::tempdir().expect("browser profile folder");
        if let Some(parent) = screenshot.parent() {
            std::fs::create_dir_all(parent).expect("screenshot folder");
        }
        let common = |extra: &[String]| {
            let mut args: Vec<String> = [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--disable-default-apps",
                "--disable-domain-reliability",
                "--disable-client-side-phishing-detection",
                "--disable-breakpad",
                "--metrics-recording-only",
                "--no-pings",
                "--hide-scrollbars",
                "--allow-file-access-from-files",
                // Loopback too: nothing leaves the browser unrecorded.
                "--proxy-bypass-list=<-loopback>",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            args.push(format!("--proxy-server=http://127.0.0.1:{}", proxy.port));
            args.push(format!("--user-data-dir={}", profile.path().display()));
            args.extend_from_slice(extra);
            args.push(url.clone());
            args
        };
        self.run(&common(&[
            format!("--window-size=1280,{height}"),
            format!("--screenshot={}", screenshot.display()),
        ]));
        assert!(
            screenshot.is_file(),
            "Chromium wrote no screenshot to {}",
            screenshot.display()
        );
        let dom = self.run(&common(&["--virtual-time-budget=3000".into(), "--dump-dom".into()]));
        let (browser_requests, requests) = proxy
            .stop()
            .into_iter()
            .partition(|line| request_host(line).is_some_and(|host| BROWSER_SERVICE_HOSTS.contains(&host.as_str())));
        Rendered {
            dom,
            requests,
            browser_requests,
        }
    }

    fn run(&self, args: &[String]) -> String {
        let mut child = Command::new(&self.program)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.program.display()));
        let mut stdout = child.stdout.take().expect("stdout");
        let reader = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut stdout, &mut text);
            text
        });
        let started = Instant::now();
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if started.elapsed() > BROWSER_TIMEOUT => {
                    let _ = child.kill();
                    panic!("Chromium did not finish within {} s", BROWSER_TIMEOUT.as_secs());
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                Err(error) => panic!("waiting for Chromium: {error}"),
            }
        }
        reader.join().unwrap_or_default()
    }
}

/// An HTTP proxy that refuses every request and remembers it.
struct RecordingProxy {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl RecordingProxy {
    fn start() -> RecordingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy port");
        listener.set_nonblocking(true).expect("non-blocking proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (requests, stop) = (requests.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let line = refuse(stream);
                            if let Ok(mut list) = requests.lock() {
                                list.push(line);
                            }
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(20)),
                    }
                }
            })
        };
        RecordingProxy {
            port,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    fn stop(mut self) -> Vec<String> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.requests.lock().map(|list| list.clone()).unwrap_or_default()
    }
}

/// The host a proxied request line names: `GET http://host/… HTTP/1.1` or `CONNECT host:443 HTTP/1.1`.
fn request_host(line: &str) -> Option<String> {
    let target = line.split_whitespace().nth(1)?;
    let authority = target.split_once("://").map_or(target, |(_, rest)| rest);
    let authority = authority.split('/').next()?;
    Some(
        authority
            .rsplit_once(':')
            .map_or(authority, |(host, _)| host)
            .to_ascii_lowercase(),
    )
}

/// Reads the request line and answers 502.
fn refuse(stream: TcpStream) -> String {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut line = String::new();
    let mut reader = BufReader::new(&stream);
    let _ = reader.read_line(&mut line);
    let mut stream = &stream;
    let _ = stream.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    let line = line.trim().to_owned();
    if line.is_empty() {
        "(a connection with no request line)".to_owned()
    } else {
        line
    }
}

#[cfg(test)]
mod tests {
    use super::request_host;

    #[test]
    fn hosts_are_read_from_proxied_request_lines() {
        assert_eq!(
            request_host("GET http://fetch.example/x.png HTTP/1.1").as_deref(),
            Some("fetch.example")
        );
        assert_eq!(
            request_host("CONNECT Update.GoogleAPIs.com:443 HTTP/1.1").as_deref(),
            Some("update.googleapis.com")
        );
        assert_eq!(request_host("garbage"), None);
    }
}
