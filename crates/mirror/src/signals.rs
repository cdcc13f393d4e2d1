//! SIGINT and SIGTERM for every long-running command: the first asks the work to wind down
//! through a cancellation token (no new transfers; what is in flight ends cleanly, journals
//! and temp files are kept for the next run); the second stops the process at once.

use tokio_util::sync::CancellationToken;

/// Watches for SIGINT/SIGTERM until the process ends: first signal cancels `cancel`, a
/// second exits with status 130.
pub async fn watch(cancel: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return;
    };
    let mut seen = 0;
    loop {
        tokio::select! {
            _ = int.recv() => {},
            _ = term.recv() => {},
        }
        seen += 1;
        if seen == 1 {
            cancel.cancel();
        } else {
            std::process::exit(130);
        }
    }
}
