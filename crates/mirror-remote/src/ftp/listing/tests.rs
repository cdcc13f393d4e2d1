//! Tests across dialects: keyword parsing, time zones, entry conversion, robustness against
//! arbitrary input, and the cross-check against mirror.pl's own `lsparse.pl`. Each dialect's
//! table of real listing lines sits next to its parser.

use proptest::prelude::*;

use super::testutil::*;
use super::*;
use crate::Kind::{Dir, File};

#[test]
fn remote_fs_keywords() {
    for fs in RemoteFs::ALL {
        assert_eq!(fs.as_str().parse::<RemoteFs>(), Ok(fs));
        assert_eq!(fs.to_string(), fs.as_str());
    }
    let err = "ms-dos".parse::<RemoteFs>().unwrap_err();
    assert_eq!(err, UnknownRemoteFs("ms-dos".into()));
    let msg = err.to_string();
    assert!(
        msg.starts_with("unknown remote_fs `ms-dos`; valid values are unix, dls,"),
        "{msg}"
    );
    assert!(msg.ends_with("cms, lsparse"), "{msg}");
    // mirror.pl built a sub name from the value: case matters.
    assert!("UNIX".parse::<RemoteFs>().is_err());
}

#[test]
fn time_zone_keywords() {
    assert_eq!(ListTz::from_use_timelocal(true), ListTz::Local);
    assert_eq!(ListTz::from_use_timelocal(false), ListTz::Utc);
    assert_eq!(
        ListTz::parse_zone("UTC"),
        Ok(ListTz::Zone(jiff::tz::TimeZone::UTC))
    );
    let plus = |h: i32, m: i32| {
        ListTz::Zone(jiff::tz::TimeZone::fixed(
            jiff::tz::Offset::from_seconds(h * 3600 + m * 60).unwrap(),
        ))
    };
    assert_eq!(ListTz::parse_zone("+05:30"), Ok(plus(5, 30)));
    assert_eq!(ListTz::parse_zone("-0800"), Ok(plus(-8, 0)));
    assert_eq!(ListTz::parse_zone("+02"), Ok(plus(2, 0)));
    for bad in ["+24:00", "+1:2:3", "+", "Mars/Olympus_Mons", "", "+05:60"] {
        assert!(ListTz::parse_zone(bad).is_err(), "{bad}");
    }
    assert!(
        ListTz::parse_zone("Nowhere/City")
            .unwrap_err()
            .to_string()
            .contains("Nowhere/City")
    );
    // IANA names need the host's zone database; check it where there is one.
    if let Ok(ListTz::Zone(berlin)) = "Europe/Berlin".parse::<ListTz>() {
        let mut o = opts(RemoteFs::Unix);
        o.tz = ListTz::Zone(berlin);
        let got = entries(&ListParser::parse_all(
            o,
            "",
            "-rw-r--r-- 1 u g 1 Jan 10 12:00 winter\n-rw-r--r-- 1 u g 1 Jul 10  2023 summer\n",
        ));
        assert_eq!(got[0].mtime, Some(utc(2024, 1, 10, 11, 0, 0)));
        assert_eq!(got[1].mtime, Some(utc(2023, 7, 9, 22, 0, 0)));
    }
}

#[test]
fn year_inference_uses_the_listing_zone() {
    // 2024-01-01 02:00 UTC is still 2023-12-31 in New York (UTC-5): a listing read in that
    // zone infers December as this (its) year, 2023.
    let mut o = ParseOptions::new(RemoteFs::Unix, ListTz::parse_zone("-05:00").unwrap(), 0);
    o.now = utc(2024, 1, 1, 2, 0, 0);
    let got = entries(&ListParser::parse_all(
        o,
        "",
        "-rw-r--r-- 1 u g 1 Dec 30 10:00 x\n",
    ));
    assert_eq!(got[0].mtime, Some(utc(2023, 12, 30, 15, 0, 0)));
}

#[test]
fn raw_entries_become_validated_entries() {
    let e = ent("a/b", File, Some(1), min(60), Some(0o644));
    let entry = e.into_entry().unwrap();
    assert_eq!(entry.path.as_str(), "a/b");
    assert_eq!(entry.precision, Precision::Minute);
    assert!(
        ent("../etc/passwd", File, None, unk(), None)
            .into_entry()
            .is_err()
    );
    // A hostile listing's `..` survives parsing (so it can be reported) and is refused here.
    let got = entries(&parse(
        RemoteFs::Unix,
        "../up:\n-rw-r--r-- 1 u g 1 Mar  1 08:00 x\n",
    ));
    assert_eq!(got[0].path, "../up");
    assert!(got[1].clone().into_entry().is_err());
    let dir = ent("d", Dir, Some(0), unk(), None).into_entry().unwrap();
    assert!(dir.kind.is_dir());
}

#[test]
fn parser_can_move_between_threads() {
    fn send<T: Send>() {}
    send::<ListParser>();
    send::<Parsed>();
}

#[test]
fn options_defaults_follow_mirror_pl() {
    let o = ParseOptions::new(RemoteFs::Vms, ListTz::Utc, 5);
    assert!(!o.report_subdirs);
    assert!(o.vms_keep_versions);
    let p = ListParser::new(o, "x");
    assert!(format!("{p:?}").contains("Vms"));
}

#[test]
fn huge_lines_are_fine() {
    let long_name = "n".repeat(200_000);
    let line = format!("-rw-r--r-- 1 u g 1 Mar  1 08:00 {long_name}");
    let got = entries(&parse(RemoteFs::Unix, &line));
    assert_eq!(got[0].path.len(), 200_000);
    // Inputs that would be quadratic for a naive scanner.
    for junk in [
        "Jan 1 ".repeat(50_000),
        "ls:".repeat(100_000),
        format!("{}Permission denied", "ls:".repeat(100_000)),
        "1 Jan 1 12:00 ".repeat(20_000),
        format!("{}x", " ".repeat(200_000)),
    ] {
        for fs in RemoteFs::ALL {
            let _ = parse(fs, &junk);
        }
    }
}

/// Lines built from the pieces listings are made of, so the parsers get past their first
/// checks and into the interesting code, plus fully arbitrary text.
fn listing_line() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("-rw-r--r--".to_owned()),
        Just("drwxr-xr-x".to_owned()),
        Just("lrwxrwxrwx".to_owned()),
        Just("crw-rw-rw-".to_owned()),
        Just("d [RWCEAFMS]".to_owned()),
        Just("Jan".to_owned()),
        Just("Feb".to_owned()),
        Just("29".to_owned()),
        Just("12:00".to_owned()),
        Just("12:00PM".to_owned()),
        Just("1999".to_owned()),
        Just("<DIR>".to_owned()),
        Just("03-04-94".to_owned()),
        Just("7/20/93".to_owned()),
        Just("14-JUN-1993".to_owned()),
        Just("NAME.TXT;3".to_owned()),
        Just("[A.B]X.DIR;1".to_owned()),
        Just("USERS:[A.B]".to_owned()),
        Just("->".to_owned()),
        Just("ls:".to_owned()),
        Just("Permission denied".to_owned()),
        Just("not found".to_owned()),
        Just("cannot access".to_owned()),
        Just("+i1.2,m3,/,".to_owned()),
        Just("type=file;size=1;".to_owned()),
        Just("213".to_owned()),
        Just("\t".to_owned()),
        Just(":".to_owned()),
        Just("/".to_owned()),
        Just("é".to_owned()),
        "[0-9]{1,25}",
        "[ -~]{0,12}",
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|v| v.join(" "))
}

proptest! {
    // No regression files: they would land outside this module's folder.
    #![proptest_config(ProptestConfig {
        cases: 400,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn no_dialect_panics_or_invents_times(lines in prop::collection::vec(listing_line(), 1..8)) {
        for fs in RemoteFs::ALL {
            for report_subdirs in [false, true] {
                let mut o = opts(fs);
                o.report_subdirs = report_subdirs;
                o.vms_keep_versions = !report_subdirs;
                let mut p = ListParser::new(o, "base");
                let mut all = Vec::new();
                for l in &lines {
                    all.extend(p.line(l));
                }
                all.extend(p.finish());
                for parsed in all {
                    if let Parsed::Entry(e) = parsed {
                        // Unknown precision exactly when there is no time.
                        prop_assert_eq!(e.mtime.is_none(), e.precision == Precision::Unknown);
                        prop_assert!(!e.path.is_empty());
                        prop_assert!(!e.path.starts_with('/') && !e.path.contains("//"));
                        if e.kind.is_dir() {
                            prop_assert_eq!(e.size, Some(0));
                        }
                        if let Some(m) = e.mode {
                            prop_assert!(m <= 0o7777);
                        }
                    }
                }
            }
        }
        for l in &lines {
            let _ = parse_mlsd_line(l);
            let _ = parse_mlst_line(l);
            let _ = parse_mdtm_reply(l);
        }
    }

    #[test]
    fn unix_entries_round_trip(
        size in 0u64..u64::MAX,
        name in "[^\\s/][^\t\r\n/]{0,30}",
        month in 1usize..=12,
        dd in 1i8..=28,
        y in 1970i16..=2100,
    ) {
        // Trailing blanks are fine: the name is the rest of the line.
        prop_assume!(name != "." && name != ".." && !name.contains(" -> "));
        let months = ["Jan","Feb","Mar","Apr","May","Jun","Jul","Aug","Sep","Oct","Nov","Dec"];
        let line = format!("-rw-r--r-- 1 owner group {size} {} {dd:>2}  {y} {name}", months[month - 1]);
        let got = entries(&parse(RemoteFs::Unix, &line));
        prop_assert_eq!(got.len(), 1);
        prop_assert_eq!(&got[0].path, &name);
        prop_assert_eq!(got[0].size, Some(size));
        prop_assert_eq!(got[0].precision, Precision::Day);
        prop_assert_eq!(got[0].mtime, Some(utc(y, month as i8, dd, 0, 0, 0)));
    }
}
