//! The crate's rule book: one test per rule of spec §1 (named after it), the keyword table
//! against `Package::builtin`, the exact text of the main error messages, the spec's worked
//! example and the example corpus under `examples/packages/`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::load::{Source, parse_sources};
use crate::*;

fn env() -> Env {
    Env {
        hostname: "vm.example".into(),
        login: "me".into(),
        internet_host: None,
        path: None,
    }
}

fn parse(text: &str) -> Loaded {
    parse_str(text, "pkgs").unwrap_or_else(|e| panic!("{}", render(&e)))
}

fn parse_err(text: &str) -> Vec<Diagnostic> {
    match parse_str(text, "pkgs") {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(e) => e,
    }
}

fn files(files: &[(&str, &str)]) -> Result<Loaded, Vec<Diagnostic>> {
    parse_sources(
        files
            .iter()
            .map(|(n, t)| Source {
                name: Arc::from(Path::new(n)),
                text: (*t).to_owned(),
            })
            .collect(),
    )
}

fn render(d: &[Diagnostic]) -> String {
    d.iter().map(|d| format!("{d}\n")).collect()
}

fn package(r: &Record) -> Package {
    match r.to_package(&env()) {
        Ok((p, _)) => p,
        Err(e) => panic!("{}", render(&e)),
    }
}

fn warnings(r: &Record) -> Vec<Diagnostic> {
    r.to_package(&env())
        .map(|(_, w)| w)
        .unwrap_or_else(|e| panic!("{}", render(&e)))
}

fn errors(r: &Record) -> Vec<Diagnostic> {
    match r.to_package(&env()) {
        Ok(_) => panic!("expected errors for package {}", r.name),
        Err(e) => e,
    }
}

/// The three keywords every package needs, after `package=NAME`.
const REQ: &str = "site=ftp.x.org\nremote_dir=/pub\nlocal_dir=/tmp/x\n";

fn one(body: &str) -> Record {
    let l = parse(&format!("package=p\n{REQ}{body}"));
    assert_eq!(l.records.len(), 1);
    l.records.into_iter().next().unwrap()
}

// ---------------------------------------------------------------------------------------------
// §1.1 which files are read, in which order

#[test]
fn rule_1_1_defaults_file_comes_first_and_files_are_one_stream() {
    let l = files(&[
        ("mirror.defaults", "package=defaults\n  local_dir=/pub/\n"),
        ("a", "package=one\n site=h\n remote_dir=/r\n"),
        (
            "b",
            " comment=still one\npackage=two\n site=h\n remote_dir=/r\n",
        ),
    ])
    .unwrap();
    let names: Vec<_> = l.records.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["one", "two"]);
    // The record at the end of `a` continues into `b` until its `package=` line.
    assert_eq!(l.records[0].get("comment"), Some("still one"));
    assert_eq!(
        l.records[0].span_of("comment").unwrap().file.as_ref(),
        Path::new("b")
    );
    assert_eq!(l.records[1].get("comment"), None);
    assert_eq!(l.records[1].get("local_dir"), Some("/pub/"));
}

#[test]
fn rule_1_1_keyword_lines_at_top_of_a_package_file_extend_the_defaults_record() {
    let l = files(&[
        ("mirror.defaults", "package=defaults\n do_deletes=true\n"),
        (
            "a",
            "  local_dir=/srv/\npackage=one\n site=h\n remote_dir=/r\n",
        ),
    ])
    .unwrap();
    assert_eq!(l.records[0].get("local_dir"), Some("/srv/"));
    assert_eq!(l.records[0].get("do_deletes"), Some("true"));
}

#[test]
fn rule_1_1_continuation_does_not_cross_files() {
    let l = files(&[("a", "package=one\ncomment=a&"), ("b", "site=h\n")]).unwrap();
    assert_eq!(l.records[0].get("comment"), Some("a&"));
    assert_eq!(l.records[0].get("site"), Some("h"));
    assert_eq!(l.warnings.len(), 1, "{}", render(&l.warnings));
}

#[test]
fn rule_1_1_defaults_search_order_and_options() {
    let root = tempfile::tempdir().unwrap();
    let exe = root.path().join("bin");
    std::fs::create_dir_all(&exe).unwrap();
    std::fs::write(
        exe.join(DEFAULTS_FILE_NAME),
        "package=defaults\n local_dir=/exe/\n",
    )
    .unwrap();
    let pkgs = root.path().join("p.packages");
    std::fs::write(&pkgs, "package=a\n site=h\n remote_dir=/r\n local_dir+x\n").unwrap();
    let inputs = [pkgs.clone()];

    // Search: /etc/mirror first (absent on test machines unless installed), then exe_dir.
    if !Path::new(SYSTEM_DEFAULTS_DIR)
        .join(DEFAULTS_FILE_NAME)
        .exists()
    {
        let l = load(
            &inputs,
            &LoadOptions {
                defaults: DefaultsSource::Search {
                    exe_dir: Some(exe.clone()),
                },
            },
        )
        .unwrap();
        assert_eq!(
            l.defaults_file.as_deref(),
            Some(exe.join(DEFAULTS_FILE_NAME).as_path())
        );
        assert_eq!(l.records[0].get("local_dir"), Some("/exe/x"));

        // Nothing found: a warning, built-in defaults.
        let l = load(
            &inputs,
            &LoadOptions {
                defaults: DefaultsSource::Search {
                    exe_dir: Some(root.path().join("nowhere")),
                },
            },
        )
        .unwrap();
        assert_eq!(l.defaults_file, None);
        assert!(l.warnings[0].message.contains("no mirror.defaults found"));
        assert_eq!(l.records[0].get("local_dir"), Some("x"));
    }

    // -N: no defaults file.
    let l = load(
        &inputs,
        &LoadOptions {
            defaults: DefaultsSource::None,
        },
    )
    .unwrap();
    assert_eq!(l.defaults_file, None);
    assert!(l.warnings.is_empty());
    assert_eq!(l.records[0].get("local_dir"), Some("x"));

    // --defaults FILE.
    let own = root.path().join("own.defaults");
    std::fs::write(&own, "package=defaults\n local_dir=/own/\n").unwrap();
    let l = load(
        &inputs,
        &LoadOptions {
            defaults: DefaultsSource::File(own.clone()),
        },
    )
    .unwrap();
    assert_eq!(l.defaults_file.as_deref(), Some(own.as_path()));
    assert_eq!(l.records[0].get("local_dir"), Some("/own/x"));

    // An explicit defaults file and packages files must exist; every missing one is named.
    let missing = root.path().join("missing.packages");
    let e = load(
        &[missing.clone(), pkgs],
        &LoadOptions {
            defaults: DefaultsSource::File(root.path().join("nope.defaults")),
        },
    )
    .unwrap_err();
    assert_eq!(e.len(), 2, "{}", render(&e));
    assert!(e[0].message.contains("cannot read defaults file"));
    assert!(e[0].message.contains("nope.defaults"));
    assert!(e[1].message.contains("cannot read packages file"));
    assert!(e[1].message.contains(&missing.display().to_string()));
}

#[test]
fn rule_1_1_packages_files_must_be_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("latin1.packages");
    std::fs::write(&p, b"package=a\ncomment=caf\xe9\n").unwrap();
    let e = load(
        &[p],
        &LoadOptions {
            defaults: DefaultsSource::None,
        },
    )
    .unwrap_err();
    assert!(
        e[0].message.contains("line 2 is not valid UTF-8"),
        "{}",
        render(&e)
    );
}

// ---------------------------------------------------------------------------------------------
// §1.2 lexical rules

#[test]
fn rule_1_2_1_last_line_without_newline_keeps_its_last_character() {
    let l = parse("package=p\nlocal_dir=/tmp/abc");
    assert_eq!(l.records[0].get("local_dir"), Some("/tmp/abc"));
}

#[test]
fn rule_1_2_1_crlf_line_endings_are_stripped() {
    let l = parse("package=p\r\nsite=ftp.x.org\r\ncomment=a&\r\n  b\r\n");
    let r = &l.records[0];
    assert_eq!(r.name, "p");
    assert_eq!(r.get("site"), Some("ftp.x.org"));
    // With the CR gone the `&` is at the end and the continuation works.
    assert_eq!(r.get("comment"), Some("ab"));
}

#[test]
fn rule_1_2_2_comments_and_blank_lines_are_ignored() {
    let l = parse("# top\n\n   \t\npackage=p\n   # indented comment\n\ncomment=x\n");
    assert_eq!(l.records[0].get("comment"), Some("x"));
}

#[test]
fn rule_1_2_2_hash_after_a_value_is_part_of_the_value() {
    let l = parse("package=p\ncomment=x # not a comment\nget_patt=a#b\n");
    assert_eq!(l.records[0].get("comment"), Some("x # not a comment"));
    assert_eq!(l.records[0].get("get_patt"), Some("a#b"));
}

#[test]
fn rule_1_2_3_keyword_operator_and_surrounding_whitespace() {
    let l = parse("\t package=p\n  remote_dir\t=/r\n local_dir +x\n");
    let r = &l.records[0];
    assert_eq!(r.name, "p");
    assert_eq!(r.get("remote_dir"), Some("/r"));
    assert_eq!(r.get("local_dir"), Some("x"));
}

#[test]
fn rule_1_2_3_value_is_verbatim_after_operator() {
    let l = parse("package=p\ncomment=  two spaces and trailing  \nsite = ftp.x.org\n");
    let r = &l.records[0];
    assert_eq!(r.get("comment"), Some("  two spaces and trailing  "));
    assert_eq!(r.get("site"), Some(" ftp.x.org"));
    // The site itself is used with the whitespace stripped (as mirror.pl did when connecting).
    let l = parse("package=p\nsite = ftp.x.org \nremote_dir=/r\nlocal_dir=/l\n");
    let p = package(&l.records[0]);
    assert_eq!(p.site.unwrap().host, "ftp.x.org");
    assert_eq!(p.site_text, "ftp.x.org");
}

#[test]
fn rule_1_2_3_whitespace_that_ends_up_in_a_path_is_warned_about() {
    let l = parse("package=p\nlocal_dir= /tmp/x\nremote_dir=/r \ncomment= fine\n");
    assert_eq!(l.warnings.len(), 2, "{}", render(&l.warnings));
    assert_eq!(
        l.warnings[0].to_string(),
        "warning: the value of `local_dir` starts with whitespace, which is part of the value\n \
         --> pkgs:2:11\n  |\n2 | local_dir= /tmp/x\n  |           ^^^^^^^\n  = help: everything \
         after `=` is the value (as in mirror.pl): write `local_dir=/tmp/x` unless the whitespace \
         is meant"
    );
    assert!(
        l.warnings[1]
            .message
            .contains("`remote_dir` ends with whitespace")
    );
}

#[test]
fn rule_1_2_4_a_line_that_is_not_key_value_is_an_error() {
    let e = parse_err("package=p\n  site ftp.x.org\nlocal_dir=/x\n= nothing\n");
    assert_eq!(e.len(), 2, "{}", render(&e));
    assert_eq!(
        e[0].to_string(),
        "error: expected `keyword=value` or `keyword+value`\n --> pkgs:2:3\n  |\n2 |   site \
         ftp.x.org\n  |   ^^^^^^^^^^^^^^\n  = help: comments must start the line with `#`; \
         mirror.pl skipped this line with an \"unknown input\" warning"
    );
    assert_eq!(e[1].span.as_ref().unwrap().line, 4);
}

#[test]
fn rule_1_2_5_unknown_keyword_stops_the_run_and_every_one_is_reported() {
    let e = parse_err(
        "package=gnu\n    site=ftp.gnu.org\n    remote_dir=/gnu\n    local_dir=/tmp/gnu\n    \
         comment=GNU\n    recursive=true\n    max_days=0\n    do_deletes=yes\n    x=1\n\n    \
         get_pat=\\.tar\\.gz$\npackage=two\n    Site=x\n    frobnicate=1\n",
    );
    assert_eq!(e.len(), 4, "{}", render(&e));
    assert_eq!(
        e[1].to_string(),
        "error: unknown keyword `get_pat`\n --> pkgs:11:5\n   |\n11 |     get_pat=\\.tar\\.gz$\n   \
         |     ^^^^^^^\n   = help: did you mean `get_patt`?"
    );
    // Keywords are case-sensitive.
    assert_eq!(e[2].help.as_deref(), Some("did you mean `site`?"));
    assert!(e[3].help.as_deref().unwrap().contains("README"));
}

#[test]
fn rule_1_2_6_ampersand_continues_the_value_on_the_next_line() {
    let l =
        parse("package=p\nexclude_patt=^tmp/|&\n      ^core$|&\n\t\\.o$\ncomment=one &\n   two\n");
    let r = &l.records[0];
    assert_eq!(r.get("exclude_patt"), Some(r"^tmp/|^core$|\.o$"));
    assert_eq!(r.get("comment"), Some("one two"));
}

#[test]
fn rule_1_2_6_continuation_line_is_taken_even_if_it_looks_like_a_comment() {
    let l = parse("package=p\ncomment=a&\n# b\n\nsite=h\n");
    assert_eq!(l.records[0].get("comment"), Some("a# b"));
    let l = parse("package=p\ncomment=a&\n\nsite=h\n");
    assert_eq!(l.records[0].get("comment"), Some("a"));
    assert_eq!(l.records[0].get("site"), Some("h"));
}

#[test]
fn rule_1_2_7_append_adds_text_without_separator() {
    let l = parse(
        "package=defaults\nlocal_dir=/public/\nexclude_patt=^lost\\+found/\npackage=p\n\
         local_dir+gnu\nexclude_patt+|\\.core$\nexclude_patt+|^tmp/\n",
    );
    let r = &l.records[0];
    assert_eq!(r.get("local_dir"), Some("/public/gnu"));
    assert_eq!(r.get("exclude_patt"), Some(r"^lost\+found/|\.core$|^tmp/"));
}

#[test]
fn rule_1_2_7_append_to_a_builtin_default() {
    let l = parse("package=p\nget_patt+\\.gz$\nremote_password+x\n");
    let r = &l.records[0];
    // get_patt's built-in default is `.`.
    assert_eq!(r.get("get_patt"), Some(r".\.gz$"));
    let l = parse(&format!(
        "package=p\n{REQ}remote_password+.extra\nhostname+.lan\n"
    ));
    let p = package(&l.records[0]);
    assert_eq!(p.remote_password.expose(), "me@vm.example.extra");
    assert_eq!(p.hostname, "vm.example.lan");
}

#[test]
fn rule_1_2_8_a_later_set_overrides_an_earlier_one() {
    let l = parse("package=p\nlocal_dir=/a\nlocal_dir=/b\n");
    assert_eq!(l.records[0].get("local_dir"), Some("/b"));
    assert_eq!(l.records[0].span_of("local_dir").unwrap().line, 3);
}

// ---------------------------------------------------------------------------------------------
// §1.3 records

#[test]
fn rule_1_3_package_line_starts_a_record_and_the_last_ends_at_eof() {
    let l = parse("package=a\ncomment=1\npackage=b\npackage=c\ncomment=3");
    let names: Vec<_> = l.records.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(l.records[1].get("comment"), None);
    assert_eq!(l.records[2].get("comment"), Some("3"));
    assert_eq!(l.records[1].span.as_ref().unwrap().line, 3);
}

#[test]
fn rule_1_3_lines_before_the_first_package_belong_to_the_first_record() {
    let l = parse("comment=early\nlocal_dir=/x\npackage=a\nsite=h\npackage=b\n");
    assert_eq!(l.records[0].get("comment"), Some("early"));
    assert_eq!(l.records[0].get("local_dir"), Some("/x"));
    assert_eq!(l.records[1].get("comment"), None);
}

#[test]
fn rule_1_3_settings_without_any_package_line_are_unused_with_a_warning() {
    let l = parse("comment=x\n");
    assert!(l.records.is_empty());
    assert!(l.warnings[0].message.contains("no `package=` line"));
}

#[test]
fn rule_1_3_package_is_an_ordinary_keyword() {
    let l = parse("package=a\npackage+b\n");
    let names: Vec<_> = l.records.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["a", "ab"]);
    let e = parse_err("package=\n");
    assert!(e[0].message.contains("empty package name"));
    let l = parse("package= defaults\n");
    assert_eq!(l.records[0].name, " defaults");
    assert!(
        l.warnings[0]
            .help
            .as_deref()
            .unwrap()
            .contains("not the `defaults` record")
    );
}

// ---------------------------------------------------------------------------------------------
// §1.4 defaults and inheritance

#[test]
fn rule_1_4_defaults_record_replaces_the_defaults_for_records_after_it() {
    let l = parse(
        "package=a\nsite=h\npackage=defaults\nlocal_dir=/one/\npackage=b\nlocal_dir+b\n\
         package=defaults\ndo_deletes=true\npackage=c\nlocal_dir+c\npackage=defaults\n\
         local_dir=/two/\npackage=d\n",
    );
    let names: Vec<_> = l.records.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c", "d"]);
    assert_eq!(l.records[0].get("local_dir"), None);
    assert_eq!(l.records[1].get("local_dir"), Some("/one/b"));
    assert_eq!(l.records[1].get("do_deletes"), None);
    // Each defaults record builds on the previous defaults.
    assert_eq!(l.records[2].get("local_dir"), Some("/one/c"));
    assert_eq!(l.records[2].get("do_deletes"), Some("true"));
    assert_eq!(l.records[3].get("local_dir"), Some("/two/"));
    assert_eq!(l.records[3].get("do_deletes"), Some("true"));
    // A normal record's own settings never leak into the next one.
    assert_eq!(l.records[1].get("site"), None);
}

#[test]
fn rule_1_4_overrides_apply_to_every_normal_record_after_reading() {
    let mut l = parse("package=defaults\nrecursive=true\npackage=a\nrecursive=true\npackage=b\n");
    l.apply_overrides(&[
        ("recursive".into(), "false".into()),
        ("get_newer".into(), "True".into()),
    ])
    .unwrap();
    for r in &l.records {
        assert_eq!(r.get("recursive"), Some("false"));
        assert!(r.span_of("recursive").unwrap().is_command_line());
    }
    // The `True` warning is reported once for the run, not once per package.
    assert_eq!(l.warnings.len(), 1, "{}", render(&l.warnings));
    assert!(l.warnings[0].to_string().contains("<command line>"));
    let mut rec = l.records[0].clone();
    rec.set("site", "h".into(), None);
    rec.set("remote_dir", "/r".into(), None);
    rec.set("local_dir", "/l".into(), None);
    assert!(warnings(&rec).is_empty());
    let e = l
        .apply_overrides(&[("recursiv".into(), "0".into())])
        .unwrap_err();
    assert_eq!(e[0].help.as_deref(), Some("did you mean `recursive`?"));
}

#[test]
fn rule_1_4_compress_prog_sets_the_suffix_unless_suffix_set_in_the_same_or_a_later_record() {
    let suffix = |text: &str| {
        let l = parse(&format!("{text}\npackage=p\n{REQ}"));
        let last = l.records.last().unwrap();
        let p = package(last);
        (p.compress_prog, p.compress_suffix)
    };
    assert_eq!(suffix(""), ("compress".into(), "Z".into()));
    assert_eq!(suffix("compress_prog=gzip"), ("gzip".into(), "gz".into()));
    // Same record, either order: the explicit suffix wins.
    assert_eq!(
        suffix("compress_prog=gzip\ncompress_suffix=z"),
        ("gzip".into(), "z".into())
    );
    assert_eq!(
        suffix("compress_suffix=z\ncompress_prog=gzip"),
        ("gzip".into(), "z".into())
    );
    // Suffix in the defaults, gzip in the package: gzip's suffix.
    let l = parse(&format!(
        "package=defaults\ncompress_suffix=z\npackage=p\n{REQ}compress_prog=gzip\n"
    ));
    assert_eq!(package(&l.records[0]).compress_suffix, "gz");
    // gzip in the defaults, suffix in a later package: the suffix.
    assert_eq!(
        suffix("package=defaults\ncompress_prog=gzip\npackage=p0\ncompress_suffix=xz"),
        ("gzip".into(), "gz".into())
    );
    let l = parse(&format!(
        "package=defaults\ncompress_prog=gzip\npackage=p\n{REQ}compress_suffix=xz\n"
    ));
    assert_eq!(package(&l.records[0]).compress_suffix, "xz");
    // A command needs its suffix.
    assert_eq!(
        suffix("compress_prog=xz -9\ncompress_suffix=xz"),
        ("xz -9".into(), "xz".into())
    );
    let r = one("compress_prog=xz -9\ncompress_patt=.\n");
    assert!(
        warnings(&r)[0]
            .message
            .contains("compress_suffix is not set")
    );
    // An empty compress_prog turns compression off.
    let r = one("compress_prog=\ncompress_patt=.\n");
    let (p, w) = r.to_package(&env()).unwrap();
    assert!(p.compress_patt.is_none());
    assert!(w[0].message.contains("nothing is compressed"));
    // Overrides are later than every record.
    let mut l = parse(&format!("package=p\n{REQ}compress_suffix=z\n"));
    l.apply_overrides(&[("compress_prog".into(), "gzip".into())])
        .unwrap();
    assert_eq!(package(&l.records[0]).compress_suffix, "gz");
}

// ---------------------------------------------------------------------------------------------
// §1.5 value interpretation

#[test]
fn rule_1_5_file_indirection_reads_the_first_line() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "s3cr\\\\et\r\nsecond line\n").unwrap();
    let r = one(&format!("remote_password=<{}\n", pw.display()));
    // Like every non-boolean value, the file's text gets Perl single-quote unescaping.
    assert_eq!(package(&r).remote_password.expose(), "s3cr\\et");
    let r = one(&format!(
        "do_deletes=< {}\n",
        dir.path().join("missing").display()
    ));
    let e = errors(&r);
    assert!(
        e[0].message.starts_with("cannot read value file"),
        "{}",
        render(&e)
    );
    assert_eq!(e[0].span.as_ref().unwrap().line, 5);
}

#[test]
fn rule_1_5_booleans_accept_any_case_and_warn_once_where_mirror_pl_differs() {
    let l = parse(&format!(
        "package=defaults\nget_newer=True\npackage=a\n{REQ}do_deletes = yes \npackage=b\n{REQ}\
         do_deletes=True\nrecursive=off\nforce=on\nchmod=no\nproxy=FALSE\n"
    ));
    let a = package(&l.records[0]);
    assert!(a.get_newer && a.do_deletes);
    let b = package(&l.records[1]);
    assert!(b.do_deletes && !b.recursive && b.force && !b.chmod && !b.proxy);
    let msgs: Vec<_> = l.warnings.iter().map(|w| w.message.as_str()).collect();
    assert_eq!(
        msgs,
        [
            // Once for `True`, although two lines and two packages use it.
            "boolean `True` is read as true here, but mirror.pl read it as false",
            "boolean `on` is read as true here, but mirror.pl read it as false",
            "boolean `no` is read as false here, but mirror.pl read it as true for `chmod`",
        ]
    );
    // Loading reported them; to_package does not repeat them.
    assert!(warnings(&l.records[1]).is_empty());
    let e = errors(&one("do_deletes=sometimes\n"));
    assert_eq!(
        e[0].message,
        "invalid value for `do_deletes` in package `p`: `sometimes` is not a boolean: write 1, \
         yes, true (or 0, no, false)"
    );
}

#[test]
fn rule_1_5_other_values_get_perl_single_quote_unescaping() {
    // Checked against mirror.pl 2.9: comment=a\\b\'c d\e gives a\b'c d\e.
    let p = package(&one("comment=a\\\\b\\'c d\\e\nget_patt=|\\\\.x||y|\n"));
    assert_eq!(p.comment, r"a\b'c d\e");
    assert_eq!(p.get_patt.unwrap().source, r"\.x|y");
}

#[test]
fn rule_1_5_regexes_are_sanitised_then_compiled() {
    let p = package(&one(
        "exclude_patt=|^a/||^b/|\nget_patt=||\ndelete_excl=x\\||y\n",
    ));
    assert_eq!(p.exclude_patt.unwrap().source, "^a/|^b/");
    // Sanitised to nothing: no filter at all.
    assert!(p.get_patt.is_none());
    // An escaped `|` is a literal, not an alternation, and is left alone.
    let d = p.delete_excl.unwrap();
    assert_eq!(d.source, r"x\||y");
    assert!(d.is_match("x|") && d.is_match("y") && !d.is_match("x"));
}

#[test]
fn rule_1_5_an_invalid_regex_skips_only_its_package() {
    let l = parse(&format!(
        "package=bad\n{REQ}get_patt=\\.(tar|zip$\ndelete_excl=[a-\npackage=good\n{REQ}"
    ));
    let e = errors(&l.records[0]);
    assert_eq!(e.len(), 2, "{}", render(&e));
    assert_eq!(
        e[0].to_string(),
        "error: invalid regex in `get_patt` of package `bad`: Opening parenthesis without \
         closing parenthesis\n --> pkgs:5:10\n  |\n5 | get_patt=\\.(tar|zip$\n  |          \
         ^^^^^^^^^^^\n  = help: the pattern (after mirror.pl's `|` clean-up) is `\\.(tar|zip$`; \
         Perl features that are not supported are listed in REGEX.md"
    );
    assert!(e[1].message.contains("`delete_excl`"));
    assert!(l.records[1].to_package(&env()).is_ok());
}

#[test]
fn rule_1_5_compress_excl_and_vms_xfer_text_are_caseless() {
    let p = package(&one(""));
    assert!(p.compress_excl.as_ref().unwrap().is_match("A.GZ"));
    assert!(p.vms_xfer_text.as_ref().unwrap().is_match("README"));
    assert!(!p.get_patt.as_ref().unwrap().is_match(""));
    let p = package(&one("compress_excl=\\.bz2$\nexclude_patt=\\.bz2$\n"));
    assert!(p.compress_excl.unwrap().is_match("x.BZ2"));
    assert!(!p.exclude_patt.unwrap().is_match("x.BZ2"));
}

#[test]
fn rule_1_5_modes_are_octal() {
    let l = parse(&format!(
        "package=p\n{REQ}file_mode=0644\ndir_mode=755\numask=07022\npackage=q\n{REQ}file_mode=420\n"
    ));
    let p = package(&l.records[0]);
    assert_eq!((p.file_mode, p.dir_mode, p.umask), (0o644, 0o755, 0o7022));
    assert_eq!(l.warnings.len(), 2, "{}", render(&l.warnings));
    assert_eq!(
        l.warnings[0].to_string(),
        "warning: mode `755` has no leading 0: read as octal 0755 here, but mirror.pl read it as \
         decimal 755 (octal 01363)\n --> pkgs:6:10\n  |\n6 | dir_mode=755\n  |          ^^^\n  \
         = help: write `0755`"
    );
    assert_eq!(package(&l.records[1]).file_mode, 0o420);
    let e = errors(&one("file_mode=0888\n"));
    assert!(e[0].message.contains("not an octal number"));
    let e = errors(&one("dir_mode=u+rwx\n"));
    assert!(e[0].message.contains("not a mode"));
}

#[test]
fn rule_1_5_sizes_take_k_m_b_suffixes() {
    let p = package(&one(
        "split_max=2 M\nsplit_chunk=200b\nsplit_patt=\\.iso$\n",
    ));
    assert_eq!((p.split_max, p.split_chunk), (2 << 20, 200 * 512));
    let e = errors(&one("split_max=2GB\n"));
    assert!(e[0].message.contains("is not a size"));
    let e = errors(&one("split_max=1k\nsplit_chunk=1000\n"));
    assert!(
        e[0].message.contains("not a multiple of 512"),
        "{}",
        render(&e)
    );
    let e = errors(&one("split_max=1k\nsplit_chunk=1k\n"));
    assert!(
        e[0].message.contains("must be larger than split_chunk"),
        "{}",
        render(&e)
    );
}

#[test]
fn rule_1_5_local_ignore_is_ored_into_exclude_patt() {
    let p = package(&one("exclude_patt=^tmp/\nlocal_ignore=(?i)^private/\n"));
    let x = p.exclude_patt.unwrap();
    assert_eq!(x.source, "^tmp/|(?i)^private/");
    assert!(x.is_match("tmp/a") && x.is_match("PRIVATE/a"));
    // The (?i) of local_ignore does not leak into exclude_patt's alternative.
    assert!(!x.is_match("TMP/a"));
    assert_eq!(p.local_ignore.unwrap().source, "(?i)^private/");
    let p = package(&one("local_ignore=^own/\n"));
    assert_eq!(p.exclude_patt.unwrap().source, "^own/");
}

// ---------------------------------------------------------------------------------------------
// §1.6 substitution

#[test]
fn rule_1_6_templates_expand_keyword_variables_and_evaluate_nothing() {
    let p = package(&one(
        "comment=GNU\nmail_subject=-s 'mirror of $package from $site ($comment)'\n\
         save_dir=/var/old/${package}\nstore_remote_listing=/var/ls/$hostname-$package.ls\n",
    ));
    assert_eq!(p.mail_subject, "-s 'mirror of p from ftp.x.org (GNU)'");
    assert_eq!(p.save_dir, "/var/old/p");
    assert_eq!(p.store_remote_listing, "/var/ls/vm.example-p.ls");
    let e = errors(&one("save_dir=/old/$date\n"));
    assert!(
        e[0].message.contains("unknown variable `$date`"),
        "{}",
        render(&e)
    );
    // `$site` never shows a password.
    let l = parse("package=p\nsite=ftp://u:pw@h/pub\nlocal_dir=/l\nmail_subject=$site\n");
    assert_eq!(package(&l.records[0]).mail_subject, "ftp://u:***@h/pub");
}

#[test]
fn rule_1_6_code_keywords_take_substitutions_only() {
    let p = package(&one(
        "name_mappings=s:\\.\\./:__/:g; s/ /_/g\nls_fix_mappings=s:^usr/spool/pub/::\n",
    ));
    assert_eq!(p.name_mappings.apply("../a b").0, "__/a_b");
    assert_eq!(p.ls_fix_mappings.apply("usr/spool/pub/x").0, "x");
    let e = errors(&one("name_mappings=$_ = lc\n"));
    assert!(
        e[0].message.contains("only s/regex/replacement/flags"),
        "{}",
        render(&e)
    );
    assert_eq!(e[0].span.as_ref().unwrap().line, 5);
}

#[test]
fn rule_1_6_external_mapping_is_refused() {
    let e = errors(&one("external_mapping=/etc/mirror/map.pl\n"));
    assert!(e[0].message.contains("`external_mapping` is not supported"));
    assert!(e[0].help.as_deref().unwrap().contains("name_mappings"));
    assert!(one("external_mapping=\n").to_package(&env()).is_ok());
}

#[test]
fn rule_1_6_hostname_password_gateway_and_mail_defaults_come_from_the_environment() {
    let env = Env {
        hostname: "box".into(),
        login: "op".into(),
        internet_host: Some("gw.example".into()),
        path: None,
    };
    let (p, _) = one("").to_package(&env).unwrap();
    assert_eq!(p.hostname, "box");
    assert_eq!(p.remote_password.expose(), "op@box");
    assert_eq!(p.proxy_gateway, "gw.example");
    assert_eq!(p.mail_prog, "");
    let (p, _) = one("hostname=mirror.example\n").to_package(&env).unwrap();
    // The password keeps the machine's name (mirror.pl computed it before reading files).
    assert_eq!(
        (p.hostname.as_str(), p.remote_password.expose()),
        ("mirror.example", "op@box")
    );
}

// ---------------------------------------------------------------------------------------------
// §1.7 worked example and the seed sample

#[test]
fn rule_1_7_worked_example() {
    let l = parse(
        "package=defaults\n        local_dir=/home/ftp/\n        do_deletes=true\n\
         package=legal_bytes\ncomment =--> Newsletter of Emerging Legal Issues <--\n\
         site =ftp.eff.org\nremote_dir =/pub/Publications/E-journals/Legal_Bytes\n\
         local_dir +mirrors/ftp.eff.org/Legal_Bytes/\n",
    );
    assert_eq!(l.records.len(), 1);
    assert!(l.warnings.is_empty(), "{}", render(&l.warnings));
    let p = package(&l.records[0]);
    assert_eq!(p.package, "legal_bytes");
    assert_eq!(p.comment, "--> Newsletter of Emerging Legal Issues <--");
    assert_eq!(p.site_text, "ftp.eff.org");
    assert_eq!(p.site.as_ref().unwrap().scheme, Scheme::Ftp);
    assert_eq!(p.remote_dir, "/pub/Publications/E-journals/Legal_Bytes");
    assert_eq!(p.local_dir, "/home/ftp/mirrors/ftp.eff.org/Legal_Bytes/");
    assert!(p.do_deletes);
    // Everything else is the built-in default.
    assert_eq!(p.max_delete_files, DeleteLimit::Percent(10));
    assert_eq!(p.remote_user, "anonymous");
}

#[test]
fn seed_sample_entry() {
    let l = parse(
        "package=legal_bytes\ncomment =--> Newsletter of Emerging Legal Issues <--\n\
         site =ftp.eff.org\nremote_dir =/pub/Publications/E-journals/Legal_Bytes\n\
         local_dir +mirrors/ftp.eff.org/Legal_Bytes/\n",
    );
    let p = package(&l.records[0]);
    assert_eq!(p.comment, "--> Newsletter of Emerging Legal Issues <--");
    assert_eq!(p.site.unwrap().host, "ftp.eff.org");
    assert_eq!(p.remote_dir, "/pub/Publications/E-journals/Legal_Bytes");
    // No default local_dir: the relative path as written.
    assert_eq!(p.local_dir, "mirrors/ftp.eff.org/Legal_Bytes/");
    assert!(!p.do_deletes);
}

// ---------------------------------------------------------------------------------------------
// Keywords: table vs built-in defaults, and types

fn debug(p: &Package) -> String {
    format!("{p:?}")
}

#[test]
fn keyword_table_defaults_match_package_builtin() {
    let env = env();
    let base = package(&one(""));
    let mut builtin = Package::builtin("p", "vm.example", "me@vm.example");
    builtin.site = Some(Site::parse("ftp.x.org").unwrap());
    builtin.site_text = "ftp.x.org".into();
    builtin.remote_dir = "/pub".into();
    builtin.local_dir = "/tmp/x".into();
    assert_eq!(debug(&base), debug(&builtin));
    // Writing each literal default explicitly changes nothing.
    for info in KEYWORDS {
        let Some(default) = info.builtin_text() else {
            continue;
        };
        if matches!(info.name, "package" | "site" | "remote_dir" | "local_dir") {
            continue;
        }
        let r = one(&format!("{}={default}\n", info.name));
        let (p, _) = r
            .to_package(&env)
            .unwrap_or_else(|e| panic!("{}: {}", info.name, render(&e)));
        assert_eq!(debug(&p), debug(&base), "default of `{}`", info.name);
    }
    // The computed ones.
    assert_eq!(base.hostname, env.hostname);
    assert_eq!(base.remote_password.expose(), env.default_password());
    assert_eq!(base.proxy_gateway, "");
    assert_eq!(base.mail_prog, env.default_mail_prog());
    // The built-in substitutions are the ones the table shows.
    assert_eq!(base.compress_conv_expr.apply("a.Z").0, "a.gz");
    assert_eq!(base.compress_conv_expr.apply("a.taz").0, "a.tgz");
    assert_eq!(
        base.pool_mappings.apply("Filename: pool/x.deb"),
        ("pool/x.deb".into(), true)
    );
}

#[test]
fn keyword_classes_reject_values_of_the_wrong_type() {
    for info in KEYWORDS {
        let bad = match info.class {
            KeywordClass::Bool => "sometimes",
            KeywordClass::Number => "12x",
            KeywordClass::Port => "0",
            KeywordClass::Mode => "rwx",
            KeywordClass::Size => "1q",
            KeywordClass::DeleteLimit => "lots",
            KeywordClass::Regex | KeywordClass::RegexCaseless => "(",
            KeywordClass::Substitutions => "lc",
            KeywordClass::Site => "host/dir",
            KeywordClass::Template => "$nope",
            KeywordClass::Text | KeywordClass::Path | KeywordClass::Secret => continue,
        };
        let r = one(&format!("{}={bad}\n", info.name));
        let e = errors(&r);
        assert!(
            e.iter()
                .any(|d| d.span.as_ref().is_some_and(|s| s.line == 5)),
            "`{}={bad}` gave {}",
            info.name,
            render(&e)
        );
    }
    // Text keywords with a closed set of values are checked too.
    assert!(
        errors(&one("remote_fs=amiga\n"))[0]
            .message
            .contains("unknown listing format")
    );
    assert!(errors(&one("algorithm=2\n"))[0].message.contains("0 or 1"));
    assert!(
        errors(&one("parallel=0\n"))[0]
            .message
            .contains("at least 1")
    );
    assert!(
        errors(&one("max_delete_files=101%\n"))[0]
            .message
            .contains("between 0% and 100%")
    );
}

#[test]
fn keyword_values_of_every_class_are_read() {
    let p = package(&one(
        "timeout=40\nftp_port=2121\nmax_delete_files=50\nmax_delete_dirs=5%\nmax_size=1000\n\
         max_days=7\nparallel=8\nremote_user=ftp\nremote_password=pw\nremote_fs=vms\n\
         algorithm=1\nls_lR_file=ls-lR.gz\nlocal_ls_lR_file=/tmp/ls-lR\n",
    ));
    assert_eq!(
        (p.timeout, p.ftp_port, p.max_size, p.max_days, p.parallel),
        (40, 2121, 1000, 7, 8)
    );
    assert_eq!(p.max_delete_files, DeleteLimit::Count(50));
    assert_eq!(p.max_delete_dirs, DeleteLimit::Percent(5));
    assert_eq!(
        (p.remote_user.as_str(), p.remote_password.expose()),
        ("ftp", "pw")
    );
    assert_eq!((p.remote_fs.as_str(), p.algorithm), ("vms", 1));
    assert_eq!(
        (p.ls_lr_file.as_str(), p.local_ls_lr_file.as_str()),
        ("ls-lR.gz", "/tmp/ls-lR")
    );
    assert!(!format!("{p:?}").contains("\"pw\""));
}

// ---------------------------------------------------------------------------------------------
// Required keywords and sites

#[test]
fn a_package_lacking_site_remote_dir_or_local_dir_is_an_error() {
    let l = parse("package=gnu\ncomment=x\npackage=ok\nsite=h\nremote_dir=/r\nlocal_dir=/l\n");
    let e = errors(&l.records[0]);
    assert_eq!(
        e[0].to_string(),
        "error: package `gnu` has no `site`, `remote_dir` and `local_dir`\n --> pkgs:1:1\n  |\n\
         1 | package=gnu\n  | ^^^^^^^\n  = help: a package needs site, remote_dir and local_dir \
         (remote_dir may be left out when site is a URL with a path)"
    );
    assert!(l.records[1].to_package(&env()).is_ok());
}

#[test]
fn url_sites_with_a_path_need_no_remote_dir() {
    let l = parse(
        "package=a\nsite=https://mirror.example.org/pub/debian/\nlocal_dir=/tmp/d\n\
         package=b\nsite=ftp://ftp.gnu.org/gnu\nremote_dir=emacs\nlocal_dir=/tmp/e\n\
         package=c\nsite=ftp://ftp.gnu.org\nlocal_dir=/tmp/e\n\
         package=d\nsite=file:///srv/tree\nlocal_dir=/tmp/f\n",
    );
    let a = package(&l.records[0]);
    assert_eq!(a.remote_root(), "/pub/debian/");
    let b = package(&l.records[1]);
    assert_eq!(b.remote_root(), "/gnu/emacs");
    let e = errors(&l.records[2]);
    assert!(e[0].message.contains("has no `remote_dir`"));
    assert_eq!(package(&l.records[3]).remote_root(), "/srv/tree");
    assert_eq!(package(&one("")).remote_root(), "/pub");
}

#[test]
fn url_credentials_and_port_win_and_never_show() {
    let l = parse(
        "package=p\nsite=ftp://mirror:p%40ss@ftp.example.org:2121/pub\nlocal_dir=/l\n\
         remote_user=anonymous\nftp_port=21\n",
    );
    let p = package(&l.records[0]);
    assert_eq!(p.remote_user, "mirror");
    assert_eq!(p.remote_password.expose(), "p@ss");
    assert_eq!(p.ftp_port, 2121);
    assert_eq!(p.site_text, "ftp://mirror:***@ftp.example.org:2121/pub");
    assert!(!format!("{p:?}").contains("p@ss"));
    let e = errors(&one("site=gopher://h/\n"));
    assert_eq!(e[0].span.as_ref().unwrap().line, 5);
    assert!(e[0].message.contains("unsupported scheme"));
}

// ---------------------------------------------------------------------------------------------
// The example corpus

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/packages")
}

#[test]
fn example_corpus_parses_without_errors() {
    let dir = corpus_dir();
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "packages"))
        .collect();
    names.sort();
    assert!(names.len() >= 10, "only {} example files", names.len());
    let defaults = dir.join(DEFAULTS_FILE_NAME);
    let mut packages = 0;
    for file in &names {
        for source in [DefaultsSource::None, DefaultsSource::File(defaults.clone())] {
            let l = load(
                std::slice::from_ref(file),
                &LoadOptions { defaults: source },
            )
            .unwrap_or_else(|e| panic!("{}: {}", file.display(), render(&e)));
            assert!(!l.records.is_empty(), "{}", file.display());
            for r in &l.records {
                r.to_package(&env()).unwrap_or_else(|e| {
                    panic!("{} package {}: {}", file.display(), r.name, render(&e))
                });
                packages += 1;
            }
        }
    }
    assert!(packages >= 40, "{packages}");
}

// ---------------------------------------------------------------------------------------------
// Credentials never appear in diagnostics or debug output (DESIGN safety invariant 4)

#[test]
fn passwords_never_appear_in_diagnostics() {
    let e = parse_err("package=p\nremote_pasword=hunter2\nremote_password hunter2\n");
    assert_eq!(e.len(), 2);
    let text = render(&e);
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("remote_pasword=***"), "{text}");
    assert!(text.contains("did you mean `remote_password`?"), "{text}");

    let l = parse("package=p\nremote_password= hunter2\nsite=ftp://u:hunter2@h:0/\nlocal_dir=/l\n");
    let mut text = render(&l.warnings);
    text += &render(&errors(&l.records[0]));
    text += &format!("{:?}", l.records[0]);
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("site=ftp://u:***@h:0/"), "{text}");

    let mut r = Record::new("p");
    let e = r.apply_override("remote_pasword", "hunter2").unwrap_err();
    assert!(!e.to_string().contains("hunter2"), "{e}");
}
