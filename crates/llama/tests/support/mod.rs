//! What the engine test binaries share.

use std::time::Duration;

use hypatia_llm::{CallControl, ChatRequest, ErrorKind, Llm};

/// Starts `request` streaming, cancels it as soon as its first piece arrives, and checks that the
/// call ends promptly as cancelled.
pub async fn cancel_after_the_first_piece(llm: &Llm, request: ChatRequest) {
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
    let control = CallControl::streaming(sender);
    let cancel = control.cancel.clone();
    let call = tokio::spawn({
        let llm = llm.clone();
        async move { llm.complete(request, control).await }
    });
    let first = tokio::time::timeout(Duration::from_secs(60), receiver.recv()).await;
    assert!(matches!(first, Ok(Some(_))), "generation started");
    cancel.cancel();
    let outcome = tokio::time::timeout(Duration::from_secs(30), call)
        .await
        .expect("cancel is prompt")
        .expect("task");
    assert_eq!(outcome.expect_err("cancelled").kind(), ErrorKind::Cancelled);
}
