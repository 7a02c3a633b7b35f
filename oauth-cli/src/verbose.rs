//! `-v`: the library's own trace of each exchange (request and response, credentials
//! redacted by the library), collected while a command runs.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use tracing::Dispatch;
use tracing::subscriber::{DefaultGuard, NoSubscriber};
use tracing_subscriber::Layer as _;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;

/// The trace of a command, collected on this thread until [`finish`](Self::finish).
pub(crate) struct Trace {
    buffer: Buffer,
    _guard: DefaultGuard,
    /// Registered for as long as the trace runs; see `start`.
    _companion: Dispatch,
}

impl Trace {
    pub(crate) fn start() -> Self {
        // tracing-core decides a callsite's interest from the calling thread's subscriber
        // alone while a single subscriber is registered: another thread (another command in
        // the same process, a test) hitting the library's callsites first would turn them
        // off for good. With a second subscriber registered it asks every live one.
        let companion = Dispatch::new(NoSubscriber::default());
        let buffer = Buffer::default();
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(buffer.clone())
            .with_ansi(false)
            .without_time()
            .with_target(false)
            .with_filter(tracing_subscriber::filter::filter_fn(|metadata| {
                metadata.target().starts_with("oauth_client") && *metadata.level() <= tracing::Level::TRACE
            }));
        let guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
        Trace { buffer, _guard: guard, _companion: companion }
    }

    /// What was traced.
    pub(crate) fn finish(self) -> Vec<u8> {
        std::mem::take(&mut *self.buffer.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Buffer;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
