//! Running an extractor so that no PDF can take the caller down: on its own
//! thread (with a deep stack for deeply nested objects), panics caught, and
//! abandoned after a time limit.

use std::sync::{Arc, mpsc};

use crate::{Limits, PdfError, RawPage, TextExtractor};

/// The name of the thread an extractor runs on: a panic there is contained
/// and becomes a `PdfError`, so a program's panic hook can keep quiet about it.
pub const EXTRACTOR_THREAD: &str = "pdf-extract";

/// Deeply nested PDF objects recurse in the parser; this is address space
/// reserved, not memory used.
const STACK_BYTES: usize = 256 * 1024 * 1024;

pub(crate) fn extract_guarded(
    extractor: Arc<dyn TextExtractor>,
    bytes: &[u8],
    limits: &Limits,
) -> Result<Vec<RawPage>, PdfError> {
    let timeout = limits.timeout;
    let limits = *limits;
    let (send, receive) = mpsc::channel();
    let bytes = bytes.to_vec();
    let spawned = std::thread::Builder::new()
        .name(EXTRACTOR_THREAD.to_owned())
        .stack_size(STACK_BYTES)
        .spawn(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| extractor.extract(&bytes, &limits)));
            // The receiver is gone when the read was abandoned: nothing to tell.
            let _ = send.send(result);
        });
    if let Err(error) = spawned {
        return Err(PdfError::ExtractorPanicked(format!(
            "could not start the reader thread: {error}"
        )));
    }
    match receive.recv_timeout(timeout) {
        Ok(Ok(result)) => result,
        Ok(Err(panic)) => Err(PdfError::ExtractorPanicked(panic_message(panic.as_ref()))),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(PdfError::TimedOut(timeout)),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(PdfError::ExtractorPanicked(
            "the reader thread ended without an answer".to_owned(),
        )),
    }
}

pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}
