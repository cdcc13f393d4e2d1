//! Pipelined file transfers over one SFTP session.
//!
//! SFTP answers each READ or WRITE request separately, so a client that waits for every
//! answer before sending the next request moves one chunk per round trip (32 KiB per 100 ms
//! is 320 KB/s on an intercontinental link, whatever the bandwidth). Here up to [`DEPTH`]
//! requests are in flight: reads are issued ahead at increasing offsets and consumed in
//! order; writes are sent as the data comes and their answers collected behind. Each request
//! runs as its own small task so it goes out at once, not when its future is first polled.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use russh_sftp::client::RawSftpSession;
use russh_sftp::client::error::Error as SftpError;
use russh_sftp::protocol::{Data, Status};
use tokio::io::AsyncWrite;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::PollSender;

use super::conn::{Conn, is_eof};
use crate::{ReadStream, WriteStream};

/// Requests in flight per transfer.
pub(crate) const DEPTH: usize = 32;

/// Bytes the writer gathers before handing them to its task (split there into requests).
const WRITE_BUFFER: usize = 256 * 1024;

fn io_error(what: &str, e: &SftpError) -> io::Error {
    let kind = match e {
        SftpError::Timeout => io::ErrorKind::TimedOut,
        SftpError::UnexpectedBehavior(_) | SftpError::IO(_) => io::ErrorKind::ConnectionAborted,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, format!("{what}: {e}"))
}

fn join_error(what: &str, e: &tokio::task::JoinError) -> io::Error {
    io::Error::other(format!("{what}: {e}"))
}

/// Closes a handle without waiting, from a destructor.
fn close_later(sftp: Arc<RawSftpSession>, handle: String) {
    if let Ok(rt) = tokio::runtime::Handle::try_current() {
        rt.spawn(async move {
            let _ = sftp.close(handle).await;
        });
    }
}

/// A read request in flight: (offset, length asked, the request).
type PendingRead = (u64, u32, JoinHandle<Result<Data, SftpError>>);

/// The state of one pipelined read.
struct Reader {
    sftp: Arc<RawSftpSession>,
    handle: String,
    /// The offset of the next request to issue.
    next: u64,
    chunk: u32,
    /// The size the file had when opened: no request is issued past it while earlier ones
    /// are pending (one request at the end finds the end of file, or a file that grew).
    size: Option<u64>,
    /// In order of offset.
    pending: VecDeque<PendingRead>,
    done: bool,
    what: String,
}

impl Reader {
    fn fill(&mut self) {
        while self.pending.len() < DEPTH {
            if let Some(size) = self.size
                && self.next > size
                && !self.pending.is_empty()
            {
                break;
            }
            let (sftp, handle, off, len) = (
                self.sftp.clone(),
                self.handle.clone(),
                self.next,
                self.chunk,
            );
            let task = tokio::spawn(async move { sftp.read(handle, off, len).await });
            self.pending.push_back((off, len, task));
            self.next += u64::from(self.chunk);
        }
    }

    fn cancel(&mut self) {
        for (_, _, t) in self.pending.drain(..) {
            t.abort();
        }
    }

    /// The next piece of the file in order, `None` at the end.
    async fn next_chunk(&mut self) -> io::Result<Option<Bytes>> {
        if self.done {
            return Ok(None);
        }
        self.fill();
        let Some((off, len, task)) = self.pending.pop_front() else {
            return Ok(None);
        };
        let result = match task.await {
            Ok(r) => r,
            Err(e) => {
                self.done = true;
                self.cancel();
                return Err(join_error(&self.what, &e));
            }
        };
        match result {
            Ok(data) if !data.data.is_empty() => {
                let got = data.data.len() as u64;
                if got < u64::from(len) {
                    // A short read (the server's own limit, or the end of a file that is
                    // still being written): the requests issued behind it start at the
                    // wrong offset. Ask again from where this one stopped.
                    self.cancel();
                    self.next = off + got;
                }
                Ok(Some(Bytes::from(data.data)))
            }
            Ok(_) => {
                self.done = true;
                self.cancel();
                Ok(None)
            }
            Err(e) if is_eof(&e) => {
                self.done = true;
                self.cancel();
                Ok(None)
            }
            Err(e) => {
                self.done = true;
                self.cancel();
                Err(io_error(&self.what, &e))
            }
        }
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.cancel();
        close_later(self.sftp.clone(), std::mem::take(&mut self.handle));
    }
}

/// A read stream over an open handle, from `offset`. `size` (from `fstat`) bounds how far
/// ahead requests go.
pub(crate) fn reader(
    conn: &Conn,
    handle: String,
    offset: u64,
    size: Option<u64>,
    what: String,
) -> ReadStream {
    let state = Reader {
        sftp: conn.sftp.clone(),
        handle,
        next: offset,
        chunk: conn.read_len,
        size,
        pending: VecDeque::new(),
        done: false,
        what,
    };
    let stream = futures::stream::unfold(state, |mut st| async move {
        match st.next_chunk().await {
            Ok(Some(b)) => Some((Ok(b), st)),
            Ok(None) => None,
            Err(e) => Some((Err(e), st)),
        }
    });
    Box::pin(tokio_util::io::StreamReader::new(stream))
}

/// A write stream over an open handle, writing from `offset`. The data goes to a task that
/// keeps [`DEPTH`] WRITE requests in flight; `shutdown` waits for every answer and the
/// CLOSE, so its result is the upload's.
pub(crate) fn writer(conn: &Conn, handle: String, offset: u64, what: String) -> WriteStream {
    let (tx, rx) = mpsc::channel::<Vec<u8>>(4);
    let task = tokio::spawn(write_task(
        conn.sftp.clone(),
        handle,
        rx,
        offset,
        conn.write_len as usize,
        what.clone(),
    ));
    Box::pin(Writer {
        tx: Some(PollSender::new(tx)),
        buf: Vec::with_capacity(WRITE_BUFFER),
        task: Some(task),
        failed: None,
    })
}

async fn write_task(
    sftp: Arc<RawSftpSession>,
    handle: String,
    mut rx: mpsc::Receiver<Vec<u8>>,
    mut off: u64,
    chunk: usize,
    what: String,
) -> io::Result<()> {
    let mut inflight: VecDeque<JoinHandle<Result<Status, SftpError>>> = VecDeque::new();
    let wait = |t: JoinHandle<Result<Status, SftpError>>| {
        let what = what.clone();
        async move {
            match t.await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(io_error(&what, &e)),
                Err(e) => Err(join_error(&what, &e)),
            }
        }
    };
    let written: io::Result<()> = async {
        while let Some(buf) = rx.recv().await {
            for piece in buf.chunks(chunk.max(1)) {
                if inflight.len() >= DEPTH
                    && let Some(t) = inflight.pop_front()
                {
                    wait(t).await?;
                }
                let (s, h, data, at) = (sftp.clone(), handle.clone(), piece.to_vec(), off);
                inflight.push_back(tokio::spawn(async move { s.write(h, at, data).await }));
                off += piece.len() as u64;
            }
        }
        while let Some(t) = inflight.pop_front() {
            wait(t).await?;
        }
        Ok(())
    }
    .await;
    for t in inflight {
        t.abort();
    }
    // Some servers report a failed write (a full disk) only when the handle is closed.
    let closed = sftp.close(handle).await;
    written?;
    closed.map(drop).map_err(|e| io_error(&what, &e))
}

struct Writer {
    tx: Option<PollSender<Vec<u8>>>,
    buf: Vec<u8>,
    task: Option<JoinHandle<io::Result<()>>>,
    /// The upload's failure, once known: every later call repeats it, so a caller that
    /// ignored one write error still gets it from `shutdown`.
    failed: Option<(io::ErrorKind, String)>,
}

impl Writer {
    /// The task's own error once it has stopped (it stops early only on failure).
    fn poll_task(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some((kind, msg)) = &self.failed {
            return Poll::Ready(Err(io::Error::new(*kind, msg.clone())));
        }
        let Some(task) = self.task.as_mut() else {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the upload has already ended",
            )));
        };
        let r = ready!(Pin::new(task).poll(cx));
        self.task = None;
        let r = match r {
            Ok(r) => r,
            Err(e) => Err(join_error("upload task", &e)),
        };
        if let Err(e) = &r {
            self.failed = Some((e.kind(), e.to_string()));
        }
        Poll::Ready(r)
    }

    /// Hands the gathered bytes to the task.
    fn poll_send(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Some(tx) = self.tx.as_mut() else {
            return match self.poll_task(cx) {
                Poll::Ready(Ok(())) | Poll::Pending => Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "write after shutdown",
                ))),
                err => err,
            };
        };
        let sent = match ready!(tx.poll_reserve(cx)) {
            Ok(()) => {
                let buf = std::mem::replace(&mut self.buf, Vec::with_capacity(WRITE_BUFFER));
                tx.send_item(buf).is_ok()
            }
            Err(_) => false,
        };
        if sent {
            return Poll::Ready(Ok(()));
        }
        // The task stopped: a write failed. Its error says why.
        self.tx = None;
        match ready!(self.poll_task(cx)) {
            Err(e) => Poll::Ready(Err(e)),
            Ok(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the upload stopped early",
            ))),
        }
    }
}

impl AsyncWrite for Writer {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.buf.len() >= WRITE_BUFFER {
            ready!(this.poll_send(cx))?;
        }
        let n = data.len().min(WRITE_BUFFER - this.buf.len());
        this.buf.extend_from_slice(&data[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.buf.is_empty() {
            ready!(this.poll_send(cx))?;
        }
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.buf.is_empty() && this.tx.is_some() {
            ready!(this.poll_send(cx))?;
        }
        if let Some(mut tx) = this.tx.take() {
            // Closing the channel tells the task the data is complete.
            tx.close();
        }
        if this.task.is_none() && this.failed.is_none() {
            return Poll::Ready(Ok(()));
        }
        this.poll_task(cx)
    }
}
