//! The API key goes into the `Authorization` header and nowhere else.

use std::time::Duration;

use hypatia_llm::{CallControl, ChatBackend};
use hypatia_openai::{OpenAiBackend, OpenAiConfig};

use crate::support::{MockServer, Reply, answer, hello, within};

const KEY: &str = "sk-proj-ThisIsTheSecretKey0123456789";
const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn the_key_is_sent_as_a_bearer_header() {
    let server = MockServer::start(vec![answer("hi"), answer("hi")]).await;
    let backend = OpenAiBackend::new(server.config().with_api_key(KEY)).expect("backend");
    within(LIMIT, backend.chat(hello(), CallControl::default()))
        .await
        .expect("answer");
    assert_eq!(
        server.requests()[0].header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );

    within(LIMIT, server.backend().chat(hello(), CallControl::default()))
        .await
        .expect("answer");
    assert_eq!(server.requests()[1].header("authorization"), None, "no key, no header");
}

#[tokio::test]
async fn the_key_appears_in_no_error_and_no_debug_output() {
    // Servers quote rejected keys back; a proxy may echo the request headers in an error page.
    let echo = format!(
        r#"{{"error":{{"message":"Incorrect API key provided: {KEY}. You can find your API key at https://platform.openai.com/account/api-keys."}}}}"#
    );
    let server = MockServer::start(vec![
        Reply::json(401, &echo),
        Reply::json(500, &format!("upstream said: Authorization: Bearer {KEY}")),
        Reply::json(400, &echo),
        Reply::json(200, &format!("<html>{KEY}</html>")),
    ])
    .await;
    let mut config = server.config().with_api_key(KEY);
    config.max_retries = 0;
    let backend = OpenAiBackend::new(config.clone()).expect("backend");
    let mut seen = vec![
        format!("{config:?}"),
        format!("{config:#?}"),
        format!("{backend:?}"),
        backend.describe(),
    ];
    for _ in 0..4 {
        let error = within(LIMIT, backend.chat(hello(), CallControl::default()))
            .await
            .expect_err("fails");
        seen.push(format!("{error}"));
        seen.push(format!("{error:?}"));
    }
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("address");
    let unreachable = OpenAiConfig {
        max_retries: 0,
        ..OpenAiConfig::new("m").with_base_url(format!("http://{closed}/v1"))
    }
    .with_api_key(KEY);
    let error = within(
        LIMIT,
        OpenAiBackend::new(unreachable)
            .expect("backend")
            .chat(hello(), CallControl::default()),
    )
    .await
    .expect_err("unreachable");
    seen.push(format!("{error} {error:?}"));
    for text in &seen {
        assert!(!text.contains(KEY), "the key leaked: {text}");
        assert!(!text.contains("ThisIsTheSecretKey"), "part of the key leaked: {text}");
    }
    assert!(seen.iter().any(|text| text.contains("***")), "{seen:?}");
    assert_eq!(server.requests().len(), 4);
}
