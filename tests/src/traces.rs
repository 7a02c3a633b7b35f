//! What the library traces, captured for a test to read.

use std::io::Write;
use std::sync::{Arc, Mutex};

/// Captures every event and span at `level` or above on this thread, formatted without time
/// or target, until dropped.
pub struct TraceCapture {
    written: Arc<Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
    // With a single subscriber registered, tracing-core takes the interest of a callsite
    // another test's thread registers first from that thread alone (none): a second one keeps
    // it asking every live subscriber.
    _companion: tracing::Dispatch,
}

impl TraceCapture {
    /// Starts capturing.
    pub fn start(level: tracing::Level) -> TraceCapture {
        let written = Arc::new(Mutex::new(Vec::new()));
        let writer = Writer(written.clone());
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(level)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .without_time()
            .with_target(false)
            .finish();
        let companion = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
        let guard = tracing::subscriber::set_default(subscriber);
        TraceCapture { written, _guard: guard, _companion: companion }
    }

    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.written.lock().unwrap()).into_owned()
    }
}

#[derive(Clone)]
struct Writer(Arc<Mutex<Vec<u8>>>);

impl Write for Writer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
