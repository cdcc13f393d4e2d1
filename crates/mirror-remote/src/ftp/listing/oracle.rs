//! Cross-check against mirror.pl's `lsparse.pl` (2.9): the same listings were run through
//! the Perl parser (TZ=UTC, `use_timelocal=0`, `time` pinned to 2024-03-15 12:00 UTC) and its
//! output is kept here verbatim, row by row beside ours. A row with a reason is a deliberate
//! difference; a row without one must match the Perl output exactly.
//!
//! Rows are written in lsparse's `path|size|time|type|0mode` form, with our `None` printed
//! as the `0` Perl used for "none".

use crate::Kind;

use super::testutil::*;
use super::{ListParser, Parsed, RawEntry, RemoteFs};

/// One output row: Perl's, ours (`None` = that side has no such entry), why they differ.
type Row = (Option<&'static str>, Option<&'static str>, &'static str);

fn perl_style(e: &RawEntry) -> String {
    let ty = match &e.kind {
        Kind::Symlink(t) => format!("l {t}"),
        k => k.letter().to_string(),
    };
    format!(
        "{}|{}|{}|{}|0{:o}",
        e.path,
        e.size.unwrap_or(0),
        e.mtime.unwrap_or(0),
        ty,
        e.mode.unwrap_or(0)
    )
}

fn check(fs: RemoteFs, base: &str, listing: &str, rows: &[Row]) {
    let got: Vec<String> = ListParser::parse_all(opts(fs), base, listing)
        .iter()
        .filter_map(|p| match p {
            Parsed::Entry(e) => Some(perl_style(e)),
            _ => None,
        })
        .collect();
    let ours: Vec<&str> = rows.iter().filter_map(|r| r.1).collect();
    assert_eq!(got, ours, "{fs}");
    for (perl, ours, why) in rows {
        if why.is_empty() {
            assert_eq!(perl, ours, "a row without a reason must match lsparse.pl");
        } else {
            assert_ne!(perl, ours, "{why}");
        }
    }
}

#[test]
fn unix_against_lsparse() {
    let listing = "\
total 8
-rw-r--r--    1 1000     1000         1234 Jan 10 12:00 file.txt
-rw-r--r--    1 0        0              42 Jun 05  2019 old.txt
drwxr-xr-x    2 0        0            4096 Mar 14 09:30 pub
-rw-r--r--   1 ftp      ftp          5120 Nov  3 11:01 report.pdf
lrwxrwxrwx   1 ftp      ftp            10 Jul 18 00:24 link -> a -> b
drwxrwxrwt 2 root root 4096 Mar  1 08:00 tmp
-rwsr-sr-x 1 root root 100 Jan  1  2020 su
crw-rw-rw- 1 root root 1, 3 Jan  1  2020 null
-rw-r--r-- 1 u g 99 Mar  1 08:00 backup 2 Feb 3 2020 x
-rw-r--r-- 1 u g 3 Mar 20 08:00 future

./sub:
-rw-r--r-- 1 u g 20 Mar  1 08:00 a.txt
-rw-r--r-- 1 u g 5 Mar  1 08:00 not found
-rw-r--r-- 1 u g 6 Mar  1 08:00 after-not-found
README
-rw-r--r-- 1 u g 7 Mar  1 08:00 where-am-i
";
    let same = |s| (Some(s), Some(s), "");
    check(
        RemoteFs::Unix,
        "",
        listing,
        &[
            same("file.txt|1234|1704888000|f|0644"),
            same("old.txt|42|1559692800|f|0644"),
            same("pub|0|1710408600|d|0755"),
            same("report.pdf|5120|1699009260|f|0644"),
            same("link -> a|10|1689639840|l b|0777"),
            (
                Some("tmp|0|1709280000|d|01776"),
                Some("tmp|0|1709280000|d|01777"),
                "`t` is sticky *and* execute",
            ),
            same("su|100|1577836800|f|06755"),
            (
                Some("x|2|1580688000|f|0644"),
                Some("backup 2 Feb 3 2020 x|99|1709280000|f|0644"),
                "the first date group is the real one, not the last",
            ),
            // Same month, a few days ahead: both keep this year.
            same("future|3|1710921600|f|0644"),
            same("sub|0|0|d|00"),
            same("sub/a.txt|20|1709280000|f|0644"),
            (
                None,
                Some("sub/not found|5|1709280000|f|0644"),
                "a file named `not found` is a file",
            ),
            (
                None,
                Some("sub/after-not-found|6|1709280000|f|0644"),
                "... and the line after it is not dropped",
            ),
            (
                Some("README/where-am-i|7|1709280000|f|0644"),
                Some("sub/where-am-i|7|1709280000|f|0644"),
                "a stray word does not become the current directory",
            ),
        ],
    );
}

#[test]
fn unix_bad_date_against_lsparse() {
    // In Perl, timegm() dies on Feb 30; lsparse'line's eval swallows it and returns an empty
    // path, which mirror.pl takes as the end of the listing: everything after is lost (and
    // would be deleted locally).
    check(
        RemoteFs::Unix,
        "",
        "-rw-r--r-- 1 u g 3 Feb 30  2020 bad-date\n-rw-r--r-- 1 u g 4 Mar  1 08:00 after\n",
        &[
            (
                None,
                Some("bad-date|3|0|f|0644"),
                "an impossible date is unknown, the entry stays",
            ),
            (
                None,
                Some("after|4|1709280000|f|0644"),
                "the listing goes on",
            ),
        ],
    );
}

#[test]
fn dls_against_lsparse() {
    let listing = "\
00index.txt     189916  Mar  1 08:00  Index of this archive
0readme           5793  Jun  5  1993  Read me first
1_x/                 =  Jan  3 10:00  OS/2 1.x-specific files
dash                 -  Mar  2 09:00  size unknown
a-very-long-file-name-that-does-not-fit.tar.gz
                  777  Feb  2 10:00  wrapped
a-very-long-directory-name/
                    =  Feb  2 10:00  wrapped dir
stray text line
real   1  Mar  1 08:00  x
./sub:
inner               1  Mar  1 08:00  in sub
";
    let same = |s| (Some(s), Some(s), "");
    check(
        RemoteFs::Dls,
        "",
        listing,
        &[
            same("00index.txt|189916|1709280000|f|0444"),
            same("0readme|5793|739238400|f|0444"),
            (
                Some("1_x|=|0|d|0555"),
                Some("1_x|0|0|d|0555"),
                "sizes are numbers",
            ),
            (
                Some("dash|-|1709370000|f|0444"),
                Some("dash|0|1709370000|f|0444"),
                "`-` is an unknown size (None)",
            ),
            same("a-very-long-file-name-that-does-not-fit.tar.gz|777|1706868000|f|0444"),
            (
                Some("a-very-long-directory-name/|=|1706868000|f|0444"),
                Some("a-very-long-directory-name|0|0|d|0555"),
                "a wrapped `name/` is still a directory",
            ),
            (
                Some("stray text line|1|1709280000|f|0444"),
                Some("real|1|1709280000|f|0444"),
                "a stray line does not rename the next entry",
            ),
            (
                Some("sub/|0|0|d|00"),
                Some("sub|0|0|d|00"),
                "no trailing slash",
            ),
            same("sub/inner|1|1709280000|f|0444"),
        ],
    );
}

#[test]
fn vms_against_lsparse() {
    let listing = "\
USERS:[ANONYMOUS.PUBLIC]

1-README.FIRST;13     9  14-JUN-1993 13:09 [ANONYMOUS] (RWE,RWE,RE,RE)
PALTER.DIR;1          1  18-JAN-1993 11:56 [ANONYMOUS] (RWE,RWE,RE,RE)
PRESS-RELEASES.DIR;1
                      1  11-AUG-1992 20:05 [ANONYMOUS] (RWE,RWE,,)

Total of 3 files, 11 blocks.

Directory USERS:[ANONYMOUS.PUBLIC.PALTER]

X.TXT;2               9  14-JUN-1993 13:09 [ANONYMOUS] (RWE,RWE,RE,RE)
X.TXT;1               9  13-JUN-1993 13:09 [ANONYMOUS] (RWE,RWE,RE,RE)
";
    let same = |s| (Some(s), Some(s), "");
    check(
        RemoteFs::Vms,
        "/anonymous/public",
        listing,
        &[
            (
                Some("1-readme.first|0|740063340|f|0444"),
                Some("1-readme.first;13|0|740063340|f|0444"),
                "vms_keep_versions (the default) keeps the version, as the manual says",
            ),
            same("palter|0|727358160|d|0555"),
            same("press-releases|0|713563500|d|0555"),
            same("palter|0|0|d|00"),
            (
                Some("palter/x.txt|0|740063340|f|0444"),
                Some("palter/x.txt;2|0|740063340|f|0444"),
                "two versions are two files, not one path twice",
            ),
            (
                Some("palter/x.txt|0|739976940|f|0444"),
                Some("palter/x.txt;1|0|739976940|f|0444"),
                "two versions are two files, not one path twice",
            ),
        ],
    );
    // The CMU form with an empty base: Perl cut the first letter of each path.
    check(
        RemoteFs::Vms,
        "",
        "[VMSSERV.FILES]ALARM.DIR;1      1/3          5-MAR-1993 18:09\n\
         [VMSSERV.FILES]ALARM.TXT;1      1/3          4-FEB-1993 12:20\n",
        &[
            (
                Some("msserv/files/alarm|0|731354940|d|0555"),
                Some("alarm|0|731354940|d|0555"),
                "paths are relative to the listed directory",
            ),
            (
                Some("msserv/files/alarm.txt|0|728828400|f|0444"),
                Some("alarm.txt;1|0|728828400|f|0444"),
                "paths are relative to the listed directory",
            ),
        ],
    );
}

#[test]
fn dosish_against_lsparse() {
    let listing = "\
03-04-94  08:45PM       <DIR>          .
04-11-94  12:48AM       <DIR>          creative
03-08-05  12:17PM                 5504 article one.txt
03-08-98  09:58AM                 9718 Conduit
\\sub\\dir:
01-02-24  10:10AM                  1 inner.txt
";
    let same = |s| (Some(s), Some(s), "");
    check(
        RemoteFs::Dosish,
        "",
        listing,
        &[
            same("creative|0|766025280|d|00"),
            same("article one.txt|5504|1110284220|f|00"),
            same("Conduit|9718|889351080|f|00"),
            same("sub/dir|0|0|d|00"),
            same("sub/dir/inner.txt|1|1704190200|f|00"),
        ],
    );
}
