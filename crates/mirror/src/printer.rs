//! Everything the program shows: mirror.pl's stdout lines at the chosen debug level, progress
//! bars on a terminal, warnings and errors on stderr. The engine only emits events; this is
//! the one place that prints.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mirror_sync::{Events, Progress};

/// Prints engine messages up to a debug level and draws one progress bar per package when
/// stderr is a terminal (never under cron, never with `--no-progress`).
pub struct Printer {
    debug: u8,
    bars: bool,
    bar: Mutex<Option<ProgressBar>>,
}

impl Printer {
    /// A printer showing messages of level `<= debug`.
    pub fn new(debug: u8, allow_bars: bool) -> Self {
        let bars = allow_bars && std::io::stderr().is_terminal();
        Printer {
            debug,
            bars,
            bar: Mutex::new(None),
        }
    }

    /// Prints a line on stdout without tearing a progress bar.
    pub fn line(&self, text: &str) {
        let bar = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        let print = || {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{text}");
            let _ = out.flush();
        };
        match bar.as_ref() {
            Some(b) => b.suspend(print),
            None => print(),
        }
    }

    /// Prints a warning or error on stderr.
    pub fn error(&self, text: &str) {
        let bar = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        let print = || eprintln!("{text}");
        match bar.as_ref() {
            Some(b) => b.suspend(print),
            None => print(),
        }
    }

    /// Removes the bar of the package that just ended.
    pub fn finish_package(&self) {
        if let Some(b) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            b.finish_and_clear();
        }
    }
}

impl Events for Printer {
    fn message(&self, level: u8, text: &str) {
        if level <= self.debug {
            self.line(text);
        }
    }

    fn progress(&self, event: Progress) {
        if !self.bars {
            return;
        }
        let mut slot = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            Progress::PlanReady { files, bytes, .. } => {
                if files == 0 {
                    return;
                }
                let bar = ProgressBar::with_draw_target(Some(bytes), ProgressDrawTarget::stderr());
                bar.set_style(
                    ProgressStyle::with_template(
                        "{spinner} {bytes}/{total_bytes} {bytes_per_sec} eta {eta} {msg}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                *slot = Some(bar);
            }
            Progress::Bytes { n, .. } => {
                if let Some(b) = slot.as_ref() {
                    b.inc(n);
                }
            }
            Progress::FileStarted { path, .. } => {
                if let Some(b) = slot.as_ref() {
                    b.set_message(path.to_string());
                }
            }
            _ => {}
        }
    }
}
