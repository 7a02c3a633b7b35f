//! A spinner on standard error while the device flow polls, when it is a terminal; nothing
//! otherwise (a log or a pipe gets the messages only).

use std::future::Future;
use std::io::Write;
use std::time::Duration;

const FRAMES: [char; 4] = ['|', '/', '-', '\\'];

/// Awaits `work`, turning a spinner on `err` meanwhile if it is a `terminal`.
pub(crate) async fn while_waiting<T>(
    work: impl Future<Output = T>,
    err: &mut dyn Write,
    terminal: bool,
) -> T {
    if !terminal {
        return work.await;
    }
    let mut work = std::pin::pin!(work);
    let mut ticks = tokio::time::interval(Duration::from_millis(250));
    let mut frame = 0;
    loop {
        tokio::select! {
            result = &mut work => {
                let _ = write!(err, "\r                                        \r");
                return result;
            }
            _ = ticks.tick() => {
                let _ = write!(err, "\r{} waiting for you to finish signing in", FRAMES[frame % FRAMES.len()]);
                let _ = err.flush();
                frame += 1;
            }
        }
    }
}
