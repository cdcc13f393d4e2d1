//! Uploads staged on local disk: what [`super::S3Remote::create`] hands out.
//!
//! An S3 object's time is the time it was uploaded, and it cannot be changed afterwards;
//! the source's time has to travel with the upload, as metadata. The engine, though, learns
//! the time last: it writes a temporary name, sets the time, then renames. So a write to a
//! temporary name (`.in.NAME.`) is kept in a local temporary file, the time is noted when it
//! is set, and the rename uploads it once under the final key with the time attached: one
//! PUT per file, nothing half-written ever visible in the bucket, and no temporary keys left
//! behind by an interrupted run. A write to any other name is uploaded when the stream is
//! shut down.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use futures::future::BoxFuture;
use tokio::io::AsyncWrite;

use crate::RelPath;

/// A file staged on local disk, waiting for its upload.
#[derive(Debug)]
pub(crate) struct Staged {
    /// The bytes (an unnamed temporary file: it vanishes with the process).
    pub file: Arc<File>,
    /// How many.
    pub size: u64,
    /// The source time, once [`crate::Remote::set_mtime`] says it.
    pub mtime: Option<i64>,
}

/// True for the engine's temporary names, `.in.NAME.` (see `RelPath::temp_sibling`).
pub(crate) fn is_temp(path: &RelPath) -> bool {
    let n = path.name();
    n.len() > 5 && n.starts_with(".in.") && n.ends_with('.')
}

/// What happens to a finished stage.
pub(crate) type Finish = Box<dyn FnOnce(Staged) -> BoxFuture<'static, io::Result<()>> + Send>;

/// The write stream: bytes go to the staging file; `shutdown` finishes the stage.
pub(crate) struct StageWriter {
    file: Option<tokio::fs::File>,
    shared: Arc<File>,
    size: u64,
    finish: Option<Finish>,
    running: Option<BoxFuture<'static, io::Result<()>>>,
}

impl StageWriter {
    /// A writer into a fresh temporary file in `dir` (the system's when `None`).
    pub fn new(dir: Option<&std::path::Path>, finish: Finish) -> io::Result<StageWriter> {
        let file = match dir {
            Some(d) => tempfile::tempfile_in(d)?,
            None => tempfile::tempfile()?,
        };
        let shared = Arc::new(file.try_clone()?);
        Ok(StageWriter {
            file: Some(tokio::fs::File::from_std(file)),
            shared,
            size: 0,
            finish: Some(finish),
            running: None,
        })
    }
}

impl AsyncWrite for StageWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let Some(file) = this.file.as_mut() else {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "write after shutdown",
            )));
        };
        let n = ready!(Pin::new(file).poll_write(cx, data))?;
        this.size += n as u64;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut().file.as_mut() {
            Some(f) => Pin::new(f).poll_flush(cx),
            None => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(f) = this.file.as_mut() {
            ready!(Pin::new(f).poll_flush(cx))?;
            this.file = None;
        }
        if this.running.is_none() {
            let Some(finish) = this.finish.take() else {
                return Poll::Ready(Ok(()));
            };
            let staged = Staged {
                file: this.shared.clone(),
                size: this.size,
                mtime: None,
            };
            this.running = Some(finish(staged));
        }
        let r = ready!(
            this.running
                .as_mut()
                .map_or(Poll::Ready(Ok(())), |f| f.as_mut().poll(cx))
        );
        this.running = None;
        Poll::Ready(r)
    }
}

/// Reads `len` bytes at `offset` of a staged file (on the blocking pool).
pub(crate) async fn read_at(file: Arc<File>, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    tokio::task::spawn_blocking(move || {
        let mut buf = vec![0u8; len];
        let mut got = 0;
        while got < len {
            let n = file.read_at(&mut buf[got..], offset + got as u64)?;
            if n == 0 {
                break;
            }
            got += n;
        }
        buf.truncate(got);
        Ok(buf)
    })
    .await
    .map_err(io::Error::other)?
}
