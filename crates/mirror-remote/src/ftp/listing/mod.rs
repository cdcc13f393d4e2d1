//! FTP listing parsers: the text of a `LIST` reply (in every `remote_fs` dialect mirror.pl
//! knew, spec §5.3–§5.5), `MLSD`/`MLST` fact lines and `MDTM` replies, turned into
//! [`RawEntry`] values, directory problems and unmatched lines.
//!
//! This module does no networking and trusts no name: paths come out as plain strings,
//! relative to the listed tree, for the backend to validate with [`RelPath`]
//! ([`RawEntry::into_entry`] does that). Every entry says how exact its time is
//! ([`Precision`]); a date that cannot be read gives `mtime: None` with
//! [`Precision::Unknown`], never "now" (mirror.pl's §6.5 bug).
//!
//! The parsers are streaming: a [`ListParser`] is fed one line at a time, as the data
//! connection delivers them, and keeps the little state a dialect needs (the current
//! directory of an `ls -lR`, a VMS file name wrapped onto its own line, ...).
//!
//! Layout: `text` (tokens and path joining) and `date` (calendar arithmetic, year inference)
//! are shared; each dialect family has its own file; `mlsd` holds the RFC 3659 parsers.

mod date;
mod dls;
mod dos;
mod mac;
mod mlsd;
mod netware;
mod simple;
mod text;
mod unix;
mod vms;

#[cfg(test)]
mod oracle;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod testutil;

use std::fmt;
use std::str::FromStr;

use jiff::tz::{Offset, TimeZone};

use crate::{Entry, Kind, Precision, RelPath, RelPathError};

pub use mlsd::{parse_mdtm_reply, parse_mlsd_line, parse_mlst_line};

/// The listing dialect a server speaks: the values of the `remote_fs` keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RemoteFs {
    /// `ls -l` / `ls -lR` output (the default; nearly every server today).
    Unix,
    /// `dls -dtR`, a descriptive ls: `name size date description`.
    Dls,
    /// Novell NetWare: `- [RWCEAFMS] owner size Mon DD HH:MM name`.
    Netware,
    /// VMS `DIRECTORY` output: `NAME.EXT;VER blocks DD-MMM-YYYY HH:MM`.
    Vms,
    /// An old DOS daemon: `name size HH:MM M/D/YY`, two entries per line.
    Dosftp,
    /// DOS/Windows `dir` style (IIS): `MM-DD-YY HH:MMAM <DIR>|size name`.
    Dosish,
    /// A Macintosh daemon (NetPresenz): unix-like with data and resource fork sizes.
    Macos,
    /// The sumex-aim info-mac `all-files` list: `-r size Mon DD HH:MM name`.
    Infomac,
    /// SuperTCP: `NAME <DIR>|size MM-DD-YY HH:MM`.
    Supertcp,
    /// A basic OS/2 server: `size [attrs] [DIR] MM-DD-YY HH:MM name`.
    Os2,
    /// NetManage Chameleon: `NAME <DIR>|size Mon DD YYYY HH:MM ...`.
    Chameleon,
    /// Bernstein's Easily Parsed LIST Format: `+facts,\tname`.
    Eplf,
    /// The CTAN `FILES` list: `size Www Mon DD HH:MM:SS YYYY path`.
    Ctan,
    /// VM/CMS: `FN FT FM RECFM LRECL RECS BLOCKS MM/DD/YY HH:MM:SS`.
    Cms,
    /// mirror's own debug output: `path size time type mode`.
    Lsparse,
}

impl RemoteFs {
    /// Every dialect, in the order the manual lists them.
    pub const ALL: [RemoteFs; 15] = [
        RemoteFs::Unix,
        RemoteFs::Dls,
        RemoteFs::Netware,
        RemoteFs::Vms,
        RemoteFs::Dosftp,
        RemoteFs::Dosish,
        RemoteFs::Macos,
        RemoteFs::Infomac,
        RemoteFs::Supertcp,
        RemoteFs::Os2,
        RemoteFs::Chameleon,
        RemoteFs::Eplf,
        RemoteFs::Ctan,
        RemoteFs::Cms,
        RemoteFs::Lsparse,
    ];

    /// The `remote_fs` keyword value for this dialect.
    pub fn as_str(self) -> &'static str {
        match self {
            RemoteFs::Unix => "unix",
            RemoteFs::Dls => "dls",
            RemoteFs::Netware => "netware",
            RemoteFs::Vms => "vms",
            RemoteFs::Dosftp => "dosftp",
            RemoteFs::Dosish => "dosish",
            RemoteFs::Macos => "macos",
            RemoteFs::Infomac => "infomac",
            RemoteFs::Supertcp => "supertcp",
            RemoteFs::Os2 => "os2",
            RemoteFs::Chameleon => "chameleon",
            RemoteFs::Eplf => "eplf",
            RemoteFs::Ctan => "ctan",
            RemoteFs::Cms => "cms",
            RemoteFs::Lsparse => "lsparse",
        }
    }
}

impl fmt::Display for RemoteFs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `remote_fs` value that names no known dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownRemoteFs(pub String);

impl fmt::Display for UnknownRemoteFs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown remote_fs `{}`; valid values are ", self.0)?;
        for (i, fs) in RemoteFs::ALL.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(fs.as_str())?;
        }
        Ok(())
    }
}

impl std::error::Error for UnknownRemoteFs {}

impl FromStr for RemoteFs {
    type Err = UnknownRemoteFs;

    /// Exact, lower-case match, as mirror.pl did (it built a Perl sub name from the value).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RemoteFs::ALL
            .into_iter()
            .find(|fs| fs.as_str() == s)
            .ok_or_else(|| UnknownRemoteFs(s.to_owned()))
    }
}

/// The time zone a listing's wall-clock dates are read in.
///
/// `ls` prints local time of the *server*, which mirror.pl never knew; it offered only
/// `use_timelocal` (true: the mirror host's zone, false: UTC). The `remote_timezone`
/// keyword adds the real answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListTz {
    /// The mirror host's own zone (`use_timelocal=true`, the default).
    Local,
    /// UTC (`use_timelocal=false`).
    Utc,
    /// An explicit zone (`remote_timezone=Europe/Berlin` or `remote_timezone=+05:30`).
    Zone(TimeZone),
}

/// A `remote_timezone` value that is neither an IANA zone name nor a `±HH:MM` offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "remote_timezone `{0}` is neither a known IANA time zone (e.g. Europe/Berlin) nor an offset like +05:30"
)]
pub struct BadTimeZone(pub String);

impl ListTz {
    /// The zone mirror.pl's `use_timelocal` selects.
    pub fn from_use_timelocal(use_timelocal: bool) -> Self {
        if use_timelocal {
            ListTz::Local
        } else {
            ListTz::Utc
        }
    }

    /// Parses a `remote_timezone` value: an IANA name, `UTC`/`Z`, or an offset written
    /// `±HH:MM`, `±HHMM` or `±HH`.
    pub fn parse_zone(s: &str) -> Result<Self, BadTimeZone> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("utc") || t == "Z" {
            // Spelled out so it works on hosts without a time zone database.
            return Ok(ListTz::Zone(TimeZone::UTC));
        }
        if t.starts_with(['+', '-']) {
            return parse_offset(t)
                .map(|o| ListTz::Zone(TimeZone::fixed(o)))
                .ok_or_else(|| BadTimeZone(s.to_owned()));
        }
        TimeZone::get(t)
            .map(ListTz::Zone)
            .map_err(|_| BadTimeZone(s.to_owned()))
    }

    /// The zone itself (`Local` is looked up now; it falls back to UTC if the host has none).
    pub fn resolve(&self) -> TimeZone {
        match self {
            ListTz::Local => TimeZone::system(),
            ListTz::Utc => TimeZone::UTC,
            ListTz::Zone(z) => z.clone(),
        }
    }
}

impl FromStr for ListTz {
    type Err = BadTimeZone;

    /// Same as [`ListTz::parse_zone`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ListTz::parse_zone(s)
    }
}

/// `±HH[:MM]` or `±HHMM` to a fixed offset; `None` when malformed or beyond ±23:59.
fn parse_offset(s: &str) -> Option<Offset> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (hh, mm) = match rest.split_once(':') {
        Some((h, m)) => (h, m),
        None if rest.len() == 4 => rest.split_at(2),
        None => (rest, "0"),
    };
    if hh.is_empty() || hh.len() > 2 || mm.is_empty() || mm.len() > 2 {
        return None;
    }
    let h: i32 = text::parse_digits(hh)?;
    let m: i32 = text::parse_digits(mm)?;
    if h > 23 || m > 59 {
        return None;
    }
    Offset::from_seconds(sign * (h * 3600 + m * 60)).ok()
}

/// How to read one listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseOptions {
    /// The dialect (`remote_fs`).
    pub fs: RemoteFs,
    /// The zone wall-clock dates are in.
    pub tz: ListTz,
    /// The current time, Unix seconds: the reference for `Mon DD HH:MM` year inference.
    pub now: i64,
    /// Spec §5.2: in an `ls -lR` (unix dialect), ignore `d` lines and learn directories only
    /// from their `dir:` headers, so a directory `ls` could not enter is not reported as
    /// one. mirror.pl sets it for `algorithm=0` without `recurse_hard`.
    pub report_subdirs: bool,
    /// VMS: keep `;VERSION` in file names (every version is its own file). When false, only
    /// the highest version of each name is reported, without the suffix.
    pub vms_keep_versions: bool,
}

impl ParseOptions {
    /// Options with mirror.pl's defaults for the flags: `report_subdirs` off,
    /// `vms_keep_versions` on.
    pub fn new(fs: RemoteFs, tz: ListTz, now: i64) -> Self {
        ParseOptions {
            fs,
            tz,
            now,
            report_subdirs: false,
            vms_keep_versions: true,
        }
    }
}

/// One entry as a listing states it, before its path is validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEntry {
    /// `/`-separated path relative to the listed tree (leading `./` and `/` dropped, `//`
    /// collapsed, `.` segments dropped). Untrusted: it may still contain `..`; validate it
    /// with [`RelPath`] (see [`RawEntry::into_entry`]).
    pub path: String,
    /// What it is. Symlink targets are verbatim and untrusted too.
    pub kind: Kind,
    /// Size in bytes; `Some(0)` for directories; `None` when the dialect gives none (VMS
    /// block counts, `-` in dls).
    pub size: Option<u64>,
    /// Modification time, Unix seconds; `None` when absent or unreadable.
    pub mtime: Option<i64>,
    /// How exact `mtime` is (`Unknown` exactly when `mtime` is `None`).
    pub precision: Precision,
    /// Permission bits (`0o7777` mask) when the dialect has them.
    pub mode: Option<u32>,
}

impl RawEntry {
    /// True for a directory learnt from a `dir:` header of an `ls -lR` rather than from a
    /// `d` line of its parent (unix dialect): header entries carry neither mode nor time,
    /// `d` lines always carry a mode. The backend uses this to find directories whose own
    /// listing is missing (a server that ignored `-R`, or an `ls` that could not enter).
    pub fn is_header(&self) -> bool {
        self.kind.is_dir() && self.mode.is_none() && self.mtime.is_none()
    }

    /// Validates the path and makes an [`Entry`] of it.
    pub fn into_entry(self) -> Result<Entry, RelPathError> {
        Ok(Entry {
            path: RelPath::new(&self.path)?,
            kind: self.kind,
            size: self.size,
            mtime: self.mtime,
            precision: self.precision,
            mode: self.mode.map(|m| (m & 0o7777) as u16),
        })
    }
}

/// What one listing line turned into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// An entry (including directories learnt from `dir:` headers).
    Entry(RawEntry),
    /// The listing itself reports an error (`ls: x: Permission denied`, a VMS privilege
    /// violation, ...): the listing of `dir` (relative path, untrusted; empty for the
    /// listed directory itself) is not complete and must not drive deletions.
    Problem {
        /// The directory (or entry) whose listing is untrustworthy.
        dir: String,
        /// The server's words, for the report.
        message: String,
    },
    /// A line the dialect does not understand, verbatim (without its line terminator).
    Unmatched(String),
}

/// Everything a dialect needs besides its own state: options, zone, base directory.
pub(crate) struct Ctx {
    pub(crate) opts: ParseOptions,
    pub(crate) zone: TimeZone,
    /// The normalized base directory entries are placed under.
    pub(crate) base: String,
    /// `now + 1 day` as a civil date in `zone`: the reference for year inference.
    pub(crate) ref_year: i16,
    pub(crate) ref_month: i8,
}

impl Ctx {
    fn new(opts: ParseOptions, base_dir: &str) -> Self {
        let zone = opts.tz.resolve();
        // One day of slack: see `date.rs` on year inference.
        let reference = jiff::Timestamp::from_second(opts.now.saturating_add(86_400))
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let civil = zone.to_datetime(reference);
        Ctx {
            base: text::normalize(base_dir),
            zone,
            ref_year: civil.year(),
            ref_month: civil.month(),
            opts,
        }
    }
}

/// One dialect's state machine.
trait Format: Send {
    /// Parses one line (terminator already removed) and appends what it yields.
    fn line(&mut self, cx: &Ctx, line: &str, out: &mut Vec<Parsed>);
    /// Flushes anything still held at the end of the listing.
    fn finish(&mut self, _cx: &Ctx, _out: &mut Vec<Parsed>) {}
}

/// A streaming parser for one listing (one `LIST` reply or one `ls-lR` file).
///
/// Feed it every line in order with [`ListParser::line`], then call [`ListParser::finish`].
pub struct ListParser {
    cx: Ctx,
    format: Box<dyn Format>,
}

impl fmt::Debug for ListParser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListParser")
            .field("fs", &self.cx.opts.fs)
            .field("base", &self.cx.base)
            .finish_non_exhaustive()
    }
}

impl ListParser {
    /// A parser for a listing of `base_dir`, a path relative to the remote tree's root (empty
    /// for the root; mirror.pl's `lsparse'reset`). Entries are placed under it, as when
    /// `recurse_hard` lists each subdirectory on its own.
    ///
    /// VMS is the exception, as in mirror.pl: its headers name absolute directories, so
    /// for [`RemoteFs::Vms`] `base_dir` is the listed directory's absolute path, written with
    /// `/` (`/anonymous/public`), which is stripped from them; when it is empty the first
    /// directory the listing names is taken as the listed one.
    pub fn new(opts: ParseOptions, base_dir: &str) -> Self {
        let cx = Ctx::new(opts, base_dir);
        let format: Box<dyn Format> = match cx.opts.fs {
            RemoteFs::Unix => Box::new(unix::Unix::new(&cx)),
            RemoteFs::Dls => Box::new(dls::Dls::new(&cx)),
            RemoteFs::Netware => Box::new(netware::Netware),
            RemoteFs::Vms => Box::new(vms::Vms::new(&cx)),
            RemoteFs::Dosftp => Box::new(dos::Dosftp),
            RemoteFs::Dosish => Box::new(dos::Dosish::new(&cx)),
            RemoteFs::Macos => Box::new(mac::Macos),
            RemoteFs::Infomac => Box::new(mac::Infomac),
            RemoteFs::Supertcp => Box::new(dos::Supertcp),
            RemoteFs::Os2 => Box::new(dos::Os2),
            RemoteFs::Chameleon => Box::new(dos::Chameleon),
            RemoteFs::Eplf => Box::new(simple::Eplf),
            RemoteFs::Ctan => Box::new(simple::Ctan),
            RemoteFs::Cms => Box::new(simple::Cms),
            RemoteFs::Lsparse => Box::new(simple::Lsparse),
        };
        ListParser { cx, format }
    }

    /// Parses one line. A trailing `\n`, `\r\n` (or any run of CR/LF) is removed first; CRs
    /// inside the line are kept, since they can only be part of a name. Lines of any length
    /// are fine.
    pub fn line(&mut self, line: &str) -> Vec<Parsed> {
        let mut out = Vec::new();
        self.format.line(&self.cx, text::chomp(line), &mut out);
        out
    }

    /// Ends the listing, returning whatever was still held (a wrapped name whose details
    /// never came, VMS versions waiting to be compared).
    pub fn finish(mut self) -> Vec<Parsed> {
        let mut out = Vec::new();
        self.format.finish(&self.cx, &mut out);
        out
    }

    /// Parses a whole listing at once (split at `\n`).
    pub fn parse_all(opts: ParseOptions, base_dir: &str, listing: &str) -> Vec<Parsed> {
        let mut parser = ListParser::new(opts, base_dir);
        let mut out = Vec::new();
        for line in listing.lines() {
            parser.format.line(&parser.cx, text::chomp(line), &mut out);
        }
        parser.format.finish(&parser.cx, &mut out);
        out
    }
}
