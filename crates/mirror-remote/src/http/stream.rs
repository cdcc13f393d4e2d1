//! File transfers: `GET` as a [`ReadStream`] that resumes with `Range` and mends a broken
//! transfer without splicing two versions of a file.
//!
//! - `open(path, offset)` with `offset > 0` sends `Range: bytes=OFFSET-`. Whether the part
//!   already kept belongs to the file as it is now is the engine's rule: it resumes a kept
//!   temporary file only when its stamp equals the listed time, and for HTTP the listed time
//!   is `Last-Modified` (exact-time pages, `HEAD`) or the listed minute (which a change
//!   within a minute that was not over cannot keep equal: see `walk`).
//! - `206 Partial Content` must start where asked. A `200` to a range means the server
//!   ignores ranges (Python's `http.server` does): the stream drops the first `offset`
//!   bytes and delivers the rest, so the engine's append-mode temporary file stays right.
//!   Restarting from 0 would need the engine to truncate what it kept; reading past the
//!   kept part costs the same bytes and needs nothing from it. A `416` whose length is the
//!   offset is an empty rest; another length is an error (the file shrank).
//! - When the connection breaks mid-body, the stream asks for the rest with `Range` and
//!   `If-Range` set to the first response's strong `ETag` (else its `Last-Modified`), within
//!   the remote's retry budget. A server that finds the file changed answers `200`, which
//!   fails the transfer instead of mixing old and new bytes.
//! - No decompression: the body is the stored file, byte for byte, whatever
//!   `Content-Encoding` says.

use std::io;
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::io::StreamReader;
use url::Url;

use super::client::{Count, Failure, Shared};
use super::walk::{content_length, content_range};
use crate::{ErrorKind, ReadStream, RelPath, RemoteError};

/// One file being read.
struct Get {
    sh: Arc<Shared>,
    path: RelPath,
    url: Url,
    /// The next byte of the file wanted (bytes delivered so far, counted from its start).
    pos: u64,
    /// The first response's strong validator, sent as `If-Range` to mend a broken body.
    validator: Option<HeaderValue>,
    /// The body being read, with its slot of the per-host cap.
    body: Option<(
        BoxStream<'static, reqwest::Result<Bytes>>,
        OwnedSemaphorePermit,
    )>,
    /// Bytes still to drop from the front of the body (a server that ignored the range).
    skip: u64,
    attempt: u32,
    done: bool,
}

/// Starts `GET path` from `offset` and returns the stream of its bytes. The first request
/// happens here, so a missing file fails now, as [`ErrorKind::NotFound`].
pub(crate) async fn open(
    sh: Arc<Shared>,
    path: &RelPath,
    offset: u64,
) -> Result<ReadStream, RemoteError> {
    let url = sh.url_for(path, false);
    let mut g = Get {
        sh,
        path: path.clone(),
        url,
        pos: offset,
        validator: None,
        body: None,
        skip: 0,
        attempt: 0,
        done: false,
    };
    g.start().await?;
    let chunks = futures::stream::unfold(g, |mut g| async move {
        let item = g.next_chunk().await?;
        Some((item, g))
    });
    Ok(Box::pin(StreamReader::new(chunks)))
}

impl Get {
    fn context(&self) -> String {
        self.sh.context("get", &self.path, false)
    }

    /// One request for the file from `pos`.
    async fn start(&mut self) -> Result<(), RemoteError> {
        let context = self.context();
        let (pos, validator) = (self.pos, self.validator.clone());
        let (sh, url) = (&self.sh, &self.url);
        let (resp, permit) = sh
            .send_accepting(
                Count::Get,
                &context,
                |s| s == StatusCode::RANGE_NOT_SATISFIABLE,
                || {
                    let mut rb = sh.request(Method::GET, url.clone());
                    if pos > 0 {
                        rb = rb.header(header::RANGE, format!("bytes={pos}-"));
                        if let Some(v) = &validator {
                            rb = rb.header(header::IF_RANGE, v.clone());
                        }
                    }
                    rb
                },
            )
            .await?;
        let fail = |cause: String| Err(RemoteError::new(ErrorKind::Other, context.clone(), cause));
        let headers = resp.headers().clone();
        let headers = &headers;
        match resp.status() {
            StatusCode::RANGE_NOT_SATISFIABLE => {
                let total = content_range(headers).and_then(|(_, t)| t);
                if total == Some(pos) {
                    // Asked for the rest of a file that is all there already.
                    self.done = true;
                    return Ok(());
                }
                return fail(match total {
                    Some(t) => format!(
                        "the file has {t} bytes, fewer than the {pos} already fetched; \
                         it cannot be resumed"
                    ),
                    None => format!("the server cannot send the file from byte {pos}"),
                });
            }
            StatusCode::PARTIAL_CONTENT => {
                let start = content_range(headers).and_then(|(first, _)| first);
                if start != Some(pos) {
                    return fail(format!(
                        "asked for bytes from {pos}, the server sent another range ({})",
                        headers
                            .get(header::CONTENT_RANGE)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("none")
                    ));
                }
                self.skip = 0;
            }
            _ if pos > 0 => {
                // The whole file. Either ranges are ignored (then skip what we have), or
                // `If-Range` found the file changed since the first response.
                if let Some(v) = &self.validator
                    && strong_validator(headers).as_ref() != Some(v)
                {
                    return fail(
                        "the file changed on the server during the transfer; \
                         it will be fetched again"
                            .into(),
                    );
                }
                if let Some(n) = content_length(headers)
                    && n < pos
                {
                    return fail(format!(
                        "the file has {n} bytes, fewer than the {pos} already fetched; \
                         it cannot be resumed"
                    ));
                }
                self.skip = pos;
            }
            _ => self.skip = 0,
        }
        if self.validator.is_none() {
            self.validator = strong_validator(headers);
        }
        self.body = Some((resp.bytes_stream().boxed(), permit));
        Ok(())
    }

    /// The next piece of the file, `None` at its end.
    async fn next_chunk(&mut self) -> Option<io::Result<Bytes>> {
        loop {
            if self.done {
                return None;
            }
            if self.body.is_none()
                && let Err(e) = self.start().await
            {
                self.done = true;
                return Some(Err(io::Error::other(e.to_string())));
            }
            let Some((body, _)) = self.body.as_mut() else {
                // `start` found nothing left to send.
                continue;
            };
            match body.next().await {
                Some(Ok(mut b)) => {
                    if self.skip > 0 {
                        let n = (self.skip.min(b.len() as u64)) as usize;
                        self.skip -= n as u64;
                        b = b.slice(n..);
                        if b.is_empty() {
                            continue;
                        }
                    }
                    self.pos += b.len() as u64;
                    return Some(Ok(b));
                }
                Some(Err(e)) => {
                    self.body = None;
                    let f = Failure::from_reqwest(&e);
                    // Mending needs a validator: without one, two versions could be spliced.
                    if f.kind == ErrorKind::Transient
                        && self.validator.is_some()
                        && self.sh.take_retry()
                    {
                        self.attempt += 1;
                        tokio::time::sleep(self.sh.backoff(self.attempt)).await;
                        continue;
                    }
                    self.done = true;
                    return Some(Err(io::Error::other(format!(
                        "{}: {}",
                        self.context(),
                        f.cause
                    ))));
                }
                None => {
                    self.done = true;
                    self.body = None;
                    return None;
                }
            }
        }
    }
}

/// The response's strong validator: its `ETag` unless weak (`W/`), else `Last-Modified`.
fn strong_validator(h: &HeaderMap) -> Option<HeaderValue> {
    h.get(header::ETAG)
        .filter(|v| !v.as_bytes().starts_with(b"W/"))
        .or_else(|| h.get(header::LAST_MODIFIED))
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_etags_give_way_to_last_modified() {
        let mut h = HeaderMap::new();
        assert_eq!(strong_validator(&h), None);
        h.insert(
            header::LAST_MODIFIED,
            HeaderValue::from_static("Sat, 15 Jun 2024 12:34:56 GMT"),
        );
        h.insert(header::ETAG, HeaderValue::from_static("W/\"abc\""));
        assert_eq!(
            strong_validator(&h).unwrap(),
            "Sat, 15 Jun 2024 12:34:56 GMT"
        );
        h.insert(header::ETAG, HeaderValue::from_static("\"abc\""));
        assert_eq!(strong_validator(&h).unwrap(), "\"abc\"");
    }
}
