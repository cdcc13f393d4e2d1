//! File transfers as byte streams: `RETR` as a [`ReadStream`] that survives a broken data
//! connection, `STOR`/`APPE` as a [`WriteStream`] whose `shutdown` waits for the server's
//! verdict.
//!
//! A read stream holds its session until the end. When the data connection breaks, times
//! out or ends with a failure reply (426 "transfer aborted"), and the failure is transient,
//! the stream reconnects and carries on with `REST <bytes so far>` (or from the start when
//! nothing was delivered yet), within the remote's retry budget. The engine only ever sees
//! the file's bytes in order, or an error. A server that claims success for a short file
//! (226 after too few bytes) is caught by the engine's size check against the listing.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio_util::io::StreamReader;

use super::conn::{Conn, Fail, deadline};
use super::pool::Lease;
use super::session::Type;
use super::{Shared, file_type};
use crate::{ReadStream, RelPath, RemoteError, WriteStream};

/// Size of one read from a data connection.
const CHUNK: usize = 128 * 1024;

struct Retr {
    sh: Arc<Shared>,
    path: RelPath,
    abs: String,
    /// Bytes of the file delivered so far, counted from its start.
    pos: u64,
    /// The session and data connection of the current attempt.
    cur: Option<(Lease, Conn)>,
    attempt: u32,
    done: bool,
    can_resume: bool,
}

/// Starts `RETR path` at `offset` and returns the stream of its bytes. The first attempt
/// happens here, so a missing file fails now, as [`crate::ErrorKind::NotFound`].
pub(crate) async fn open(
    sh: Arc<Shared>,
    path: &RelPath,
    offset: u64,
) -> Result<ReadStream, RemoteError> {
    let abs = sh.abs(path).await?;
    let mut r = Retr {
        sh,
        path: path.clone(),
        abs,
        pos: offset,
        cur: None,
        attempt: 0,
        done: false,
        can_resume: true,
    };
    loop {
        match r.start().await {
            Ok(()) => break,
            Err(e) if e.retryable() && r.sh.take_retry() => {
                r.attempt += 1;
                tokio::time::sleep(r.sh.backoff(r.attempt)).await;
            }
            Err(e) => return Err(e.into_remote(r.sh.context("get", &r.path))),
        }
    }
    let strip_cr = r.sh.cfg.strip_cr;
    let chunks = futures::stream::unfold(r, |mut r| async move {
        let item = r.next_chunk().await?;
        Some((item, r))
    });
    let reader = StreamReader::new(chunks);
    if strip_cr {
        Ok(Box::pin(StripCr {
            inner: Box::pin(reader),
        }))
    } else {
        Ok(Box::pin(reader))
    }
}

impl Retr {
    /// One attempt at opening the transfer from `pos`.
    async fn start(&mut self) -> Result<(), Fail> {
        self.cur = None;
        let mut lease = self.sh.pool.get().await?;
        if self.pos > 0 && !lease.feat.rest {
            self.can_resume = false;
            // Not worth retrying: the server will not learn REST.
            return Err(Fail::Reply(super::conn::Reply {
                code: 502,
                text: "the server cannot resume transfers (no REST)".into(),
            }));
        }
        lease.set_type(file_type(&self.sh.cfg)).await?;
        let data = lease.data(&format!("RETR {}", self.abs), self.pos).await?;
        match data.conn {
            Some(conn) => self.cur = Some((lease, conn)),
            // 2xx at once: an empty file.
            None => self.done = true,
        }
        Ok(())
    }

    /// The next piece of the file, `None` at its (confirmed) end.
    async fn next_chunk(&mut self) -> Option<io::Result<Bytes>> {
        loop {
            if self.done {
                return None;
            }
            if self.cur.is_none()
                && let Err(e) = self.start().await
            {
                match self.retry(e).await {
                    Ok(()) => continue,
                    Err(e) => return Some(Err(e)),
                }
            }
            let limit = self.sh.cfg.timeout;
            let (lease, conn) = self.cur.as_mut()?;
            // Uninitialised room, not a zeroed vector: zeroing 128 KiB per read was a
            // visible share of a large transfer's CPU time.
            let mut buf = bytes::BytesMut::with_capacity(CHUNK);
            let read = deadline(limit, "file data", async {
                conn.read_buf(&mut buf).await.map_err(Fail::Io)
            })
            .await;
            match read {
                Ok(0) => {
                    // End of data: only the final reply says whether it was all of it. The
                    // data connection is closed first: the close acknowledges the last bytes
                    // at once, and a server that lingers on its close until they are
                    // acknowledged (vsftpd) would otherwise send its reply only after our
                    // delayed-ACK timer, 40 ms per file.
                    let (mut lease, conn) = self.cur.take()?;
                    drop(conn);
                    let finished = lease.finish().await;
                    drop(lease);
                    match finished {
                        Ok(_) => {
                            self.done = true;
                            return None;
                        }
                        Err(e) => match self.retry(e).await {
                            Ok(()) => continue,
                            Err(e) => return Some(Err(e)),
                        },
                    }
                }
                Ok(n) => {
                    self.pos += n as u64;
                    return Some(Ok(buf.freeze()));
                }
                Err(e) => {
                    lease.discard();
                    self.cur = None;
                    match self.retry(e).await {
                        Ok(()) => continue,
                        Err(e) => return Some(Err(e)),
                    }
                }
            }
        }
    }

    /// After a failure: back off and let the loop start again from `pos`, or give up with
    /// the error as an I/O error naming the file.
    async fn retry(&mut self, e: Fail) -> Result<(), io::Error> {
        if let Some((mut lease, _)) = self.cur.take() {
            lease.discard();
        }
        let resumable = self.pos == 0 || self.can_resume;
        if e.retryable() && resumable && self.sh.take_retry() {
            self.attempt += 1;
            tokio::time::sleep(self.sh.backoff(self.attempt)).await;
            return Ok(());
        }
        self.done = true;
        let err = e.into_remote(self.sh.context("get", &self.path));
        let kind = match err.kind {
            crate::ErrorKind::NotFound => io::ErrorKind::NotFound,
            crate::ErrorKind::PermissionDenied => io::ErrorKind::PermissionDenied,
            _ => io::ErrorKind::Other,
        };
        Err(io::Error::new(kind, err.to_string()))
    }
}

/// `strip_cr`: every CR is dropped from the bytes read.
struct StripCr<R> {
    inner: R,
}

impl<R: AsyncRead + Unpin> AsyncRead for StripCr<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            let start = buf.filled().len();
            ready!(Pin::new(&mut self.inner).poll_read(cx, buf))?;
            let filled = buf.filled_mut();
            if filled.len() == start {
                return Poll::Ready(Ok(())); // end of stream
            }
            let mut w = start;
            for r in start..filled.len() {
                if filled[r] != b'\r' {
                    filled[w] = filled[r];
                    w += 1;
                }
            }
            let kept = w;
            buf.set_filled(kept);
            if kept > start {
                return Poll::Ready(Ok(()));
            }
            // A read of nothing but CRs: reading 0 bytes would look like the end.
        }
    }
}

/// Starts `STOR path` (or `APPE` with `append`) and returns the stream to write it.
pub(crate) async fn create(
    sh: Arc<Shared>,
    path: &RelPath,
    append: bool,
) -> Result<WriteStream, RemoteError> {
    let abs = sh.abs(path).await?;
    let verb = if append { "APPE" } else { "STOR" };
    let mut attempt = 0;
    let (lease, conn) = loop {
        let tried = async {
            let mut lease = sh.pool.get().await?;
            let ty = if sh.cfg.text_mode {
                Type::Ascii
            } else {
                Type::Image
            };
            lease.set_type(ty).await?;
            let data = lease.data(&format!("{verb} {abs}"), 0).await?;
            match data.conn {
                Some(c) => Ok((lease, c)),
                None => Err(Fail::Protocol(format!(
                    "the server accepted {verb} without opening a data connection"
                ))),
            }
        }
        .await;
        match tried {
            Ok(v) => break v,
            Err(e) if e.retryable() && sh.take_retry() => {
                attempt += 1;
                tokio::time::sleep(sh.backoff(attempt)).await;
            }
            Err(e) => return Err(e.into_remote(sh.context("put", path))),
        }
    };
    Ok(Box::pin(Stor {
        state: StorState::Writing { lease, conn },
        context: sh.context("put", path),
    }))
}

type Finish = Pin<Box<dyn Future<Output = io::Result<()>> + Send>>;

enum StorState {
    Writing { lease: Lease, conn: Conn },
    Closing { lease: Lease, conn: Conn },
    Confirming(Finish),
    Done,
}

/// An upload: bytes go to the data connection; `shutdown` closes it and waits for the
/// server's final reply, so a refused or truncated upload is an error there.
struct Stor {
    state: StorState,
    context: String,
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the upload is already finished")
}

impl AsyncWrite for Stor {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.state {
            StorState::Writing { conn, .. } => Pin::new(conn).poll_write(cx, buf),
            _ => Poll::Ready(Err(closed())),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.state {
            StorState::Writing { conn, .. } | StorState::Closing { conn, .. } => {
                Pin::new(conn).poll_flush(cx)
            }
            _ => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            match std::mem::replace(&mut self.state, StorState::Done) {
                StorState::Writing { lease, conn } => {
                    self.state = StorState::Closing { lease, conn };
                }
                StorState::Closing { lease, mut conn } => {
                    match Pin::new(&mut conn).poll_shutdown(cx) {
                        Poll::Pending => {
                            self.state = StorState::Closing { lease, conn };
                            return Poll::Pending;
                        }
                        Poll::Ready(r) => {
                            drop(conn);
                            let context = self.context.clone();
                            let mut lease = lease;
                            self.state = StorState::Confirming(Box::pin(async move {
                                if let Err(e) = r {
                                    lease.discard();
                                    return Err(e);
                                }
                                lease.finish().await.map(drop).map_err(|e| {
                                    io::Error::other(e.into_remote(context).to_string())
                                })
                            }));
                        }
                    }
                }
                StorState::Confirming(mut fut) => match fut.as_mut().poll(cx) {
                    Poll::Pending => {
                        self.state = StorState::Confirming(fut);
                        return Poll::Pending;
                    }
                    Poll::Ready(r) => return Poll::Ready(r),
                },
                StorState::Done => return Poll::Ready(Ok(())),
            }
        }
    }
}
