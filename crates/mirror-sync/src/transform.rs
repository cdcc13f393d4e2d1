//! What happens to a fetched file before it takes its place (spec §2.6, §2.7, §4.5):
//! compression (`compress_patt`: gzip in-process, any other program spawned directly with
//! stdin → stdout), compress→gzip conversion (`gzip -dc` spawned directly, re-gzipped
//! in-process), and splitting into `NAME-split/partNN` with a `README` of BSD `sum`
//! checksums computed here. No shell is ever involved (§6.25).
//!
//! These functions block; the executor runs them on the blocking pool.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use flate2::Compression;
use flate2::write::GzEncoder;

/// A compressor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Compressor {
    /// gzip level 9, in-process (for `compress_prog=gzip`).
    Gzip,
    /// A program and its arguments, fed the file on stdin, writing the result to stdout.
    Program(Vec<String>),
}

impl Compressor {
    /// Reads `compress_prog`: `gzip` (a bare word or a path ending in `/gzip`, with any
    /// arguments) is done in-process; anything else is split into words shell-style.
    pub fn from_prog(prog: &str) -> Result<Self, String> {
        let words = crate::report::shell_words(prog)?;
        match words.first() {
            None => Err("compress_prog is empty".into()),
            Some(w) if w == "gzip" || w.ends_with("/gzip") => Ok(Compressor::Gzip),
            Some(_) => Ok(Compressor::Program(words)),
        }
    }
}

/// Creates a new output file, never through a symlink and never over an existing file.
fn create_new(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(path)
}

/// Compresses `input` into the new file `output`.
pub(crate) fn compress_file(c: &Compressor, input: &Path, output: &Path) -> io::Result<()> {
    match c {
        Compressor::Gzip => {
            let mut enc = GzEncoder::new(BufWriter::new(create_new(output)?), Compression::new(9));
            io::copy(&mut File::open(input)?, &mut enc)?;
            enc.finish()?.flush()
        }
        Compressor::Program(argv) => {
            let status = Command::new(&argv[0])
                .args(&argv[1..])
                .stdin(File::open(input)?)
                .stdout(create_new(output)?)
                .stderr(Stdio::null())
                .status()?;
            if status.success() {
                Ok(())
            } else {
                Err(io::Error::other(format!(
                    "{} exited with {status}",
                    argv[0]
                )))
            }
        }
    }
}

/// Converts a `compress`ed (or gzipped) `input` to gzip level 9 in `output`: `gzip -dc`
/// spawned directly decompresses, the result is re-compressed in-process.
pub(crate) fn convert_file(input: &Path, output: &Path) -> io::Result<()> {
    let mut child = Command::new("gzip")
        .arg("-dc")
        .stdin(File::open(input)?)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| io::Error::new(e.kind(), format!("cannot run gzip -dc: {e}")))?;
    let mut enc = GzEncoder::new(BufWriter::new(create_new(output)?), Compression::new(9));
    let copied = io::copy(child.stdout.as_mut().expect("piped stdout"), &mut enc);
    let status = child.wait()?;
    copied?;
    enc.finish()?.flush()?;
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!("gzip -dc exited with {status}")))
    }
}

/// BSD `sum` (the default of GNU `sum`): a 16-bit rotating checksum and the size in
/// 1024-byte blocks.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BsdSum {
    sum: u16,
    len: u64,
}

impl BsdSum {
    /// Adds bytes.
    pub fn update(&mut self, data: &[u8]) {
        let mut s = u32::from(self.sum);
        for &b in data {
            s = (s >> 1) + ((s & 1) << 15);
            s = (s + u32::from(b)) & 0xffff;
        }
        self.sum = s as u16;
        self.len += data.len() as u64;
    }

    /// The line `sum` prints for a file: checksum, blocks, name.
    pub fn line(&self, name: &str) -> String {
        format!("{:05} {:5} {name}", self.sum, self.len.div_ceil(1024))
    }
}

/// Splits `input` into `dir/part01`, `dir/part02`, … of `chunk` bytes and writes
/// `dir/README` with their checksums. `dir` must exist and be empty. Parts get `mtime`
/// when given. Returns the number of parts.
pub(crate) fn split_file(
    input: &Path,
    dir: &Path,
    chunk: u64,
    mtime: Option<i64>,
    original: &str,
) -> io::Result<u32> {
    let mut src = File::open(input)?;
    let mut sums = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let chunk = chunk.max(1);
    loop {
        let name = format!("part{:02}", sums.len() + 1);
        let mut part: Option<File> = None;
        let mut sum = BsdSum::default();
        let mut left = chunk;
        while left > 0 {
            let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            let n = src.read(&mut buf[..want])?;
            if n == 0 {
                break;
            }
            let f = match part.as_mut() {
                Some(f) => f,
                None => part.insert(create_new(&dir.join(&name))?),
            };
            f.write_all(&buf[..n])?;
            sum.update(&buf[..n]);
            left -= n as u64;
        }
        let Some(f) = part else { break };
        if let Some(t) = mtime {
            set_time(&f, t)?;
        }
        drop(f);
        sums.push(sum.line(&name));
        if left > 0 {
            break;
        }
    }
    let mut readme = format!(
        "This directory holds {original} split into {} parts.\n\
         To recreate the original, concatenate the parts in order:\n\
         \x20   cat part* > {original}\n\n\
         Checksums (BSD sum: checksum, 1K blocks, name):\n\n",
        sums.len()
    );
    for line in &sums {
        readme.push_str(line);
        readme.push('\n');
    }
    let mut f = create_new(&dir.join("README"))?;
    f.write_all(readme.as_bytes())?;
    if let Some(t) = mtime {
        set_time(&f, t)?;
    }
    Ok(sums.len() as u32)
}

/// Sets a file's access and modification time.
pub(crate) fn set_time(f: &File, t: i64) -> io::Result<()> {
    let when = if t >= 0 {
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(t.unsigned_abs())
    } else {
        std::time::UNIX_EPOCH - std::time::Duration::from_secs(t.unsigned_abs())
    };
    f.set_times(fs::FileTimes::new().set_accessed(when).set_modified(when))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bsd_sum_matches_known_values() {
        // `printf 'hello\n' | sum` prints "36979     1".
        let mut s = BsdSum::default();
        s.update(b"hello\n");
        assert_eq!(s.line("x"), "36979     1 x");
        // Feeding in pieces gives the same answer.
        let mut a = BsdSum::default();
        a.update(b"hel");
        a.update(b"lo\n");
        assert_eq!(a, s);
    }

    #[test]
    fn split_and_join_round_trip() {
        let tmp = tempfile::tempdir().unwrap();
        let input = tmp.path().join("big");
        let data: Vec<u8> = (0..2500u32).map(|i| (i * 7 % 251) as u8).collect();
        fs::write(&input, &data).unwrap();
        let dir = tmp.path().join("big-split");
        fs::create_dir(&dir).unwrap();
        assert_eq!(
            split_file(&input, &dir, 1024, Some(1_000_000), "big").unwrap(),
            3
        );
        let mut joined = Vec::new();
        for i in 1..=3 {
            joined.extend(fs::read(dir.join(format!("part{i:02}"))).unwrap());
        }
        assert_eq!(joined, data);
        let readme = fs::read_to_string(dir.join("README")).unwrap();
        assert!(readme.contains(" part03\n"), "{readme}");
        let md = fs::metadata(dir.join("part01")).unwrap();
        assert_eq!(
            md.modified().unwrap(),
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000)
        );
    }

    #[test]
    fn gzip_in_process_round_trips() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("a.gz"));
        fs::write(&a, b"some text some text some text").unwrap();
        compress_file(&Compressor::Gzip, &a, &b).unwrap();
        let mut out = String::new();
        flate2::read::GzDecoder::new(File::open(&b).unwrap())
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "some text some text some text");
        // Never over an existing file.
        assert!(compress_file(&Compressor::Gzip, &a, &b).is_err());
    }

    #[test]
    fn compressor_words() {
        assert_eq!(Compressor::from_prog("gzip").unwrap(), Compressor::Gzip);
        assert_eq!(
            Compressor::from_prog("/usr/bin/gzip -9").unwrap(),
            Compressor::Gzip
        );
        assert_eq!(
            Compressor::from_prog("bzip2 -9").unwrap(),
            Compressor::Program(vec!["bzip2".into(), "-9".into()])
        );
    }
}
