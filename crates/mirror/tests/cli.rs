//! The `mirror` program as a user runs it: old and new command lines, `-L` on the example
//! corpus, configuration errors and exit statuses, and whole runs on local trees.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn mirror() -> Command {
    Command::cargo_bin("mirror").expect("the mirror binary")
}

/// A temporary folder holding `src/f`, a one-file source tree.
fn one_file_source() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    fs::create_dir(&src).unwrap();
    fs::write(src.join("f"), "x").unwrap();
    (tmp, src)
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/packages")
}

#[test]
fn list_output_of_every_example_matches_the_stored_expectation() {
    let dir = examples();
    let mut checked = 0;
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "packages") {
            continue;
        }
        let name = path.file_stem().unwrap().to_str().unwrap();
        let expected = fs::read_to_string(dir.join("expected").join(format!("{name}.L")))
            .unwrap_or_else(|e| panic!("expected/{name}.L: {e}"));
        let out = mirror()
            .current_dir(&dir)
            .args(["-N", "-L", "mirror.defaults"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            expected,
            "-L output of {name}"
        );
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} example files");
}

#[test]
fn help_explains_old_and_new_forms_and_version_prints() {
    mirror()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("-pPKG, -p PKG   --package PKG"))
        .stdout(predicate::str::contains("EXIT STATUS"));
    mirror()
        .arg("-v")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("mirror "));
}

#[test]
fn usage_errors_exit_2() {
    mirror()
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no packages file given"));
    mirror()
        .arg("-x")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown option `-x`"));
    mirror()
        .args(["-N", "/nonexistent/packages"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/nonexistent/packages"));
}

#[test]
fn every_config_error_is_reported_with_file_and_line_and_nothing_runs() {
    let (tmp, src) = one_file_source();
    let pk = tmp.path().join("p");
    fs::write(
        &pk,
        format!(
            "package=a\n site=file://{}\n local_dir={}/out\n get_pat=x\n\
             package=b\n this is not a keyword line\n",
            src.display(),
            tmp.path().display()
        ),
    )
    .unwrap();
    mirror()
        .args(["-N"])
        .arg(&pk)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown keyword `get_pat`"))
        .stderr(predicate::str::contains("did you mean `get_patt`?"))
        .stderr(predicate::str::contains(":4:"))
        .stderr(predicate::str::contains(":6:"));
    assert!(
        !tmp.path().join("out").exists(),
        "a package ran despite config errors"
    );
}

#[test]
fn a_bad_regex_skips_only_its_package() {
    let (tmp, src) = one_file_source();
    let pk = tmp.path().join("p");
    fs::write(
        &pk,
        format!(
            "package=bad\n site=file://{s}\n local_dir={t}/bad\n get_patt=(unclosed\n\
             package=good\n site=file://{s}\n local_dir={t}/good\n",
            s = src.display(),
            t = tmp.path().display()
        ),
    )
    .unwrap();
    mirror()
        .arg("-N")
        .arg(&pk)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("get_patt"));
    assert!(tmp.path().join("good/f").exists());
    assert!(!tmp.path().join("bad").exists());
}

/// Writes a packages file mirroring `src` into `out` and returns its path.
fn packages(dir: &Path, src: &Path, out: &Path, extra: &str) -> PathBuf {
    let pk = dir.join("packages");
    fs::write(
        &pk,
        format!(
            "package=defaults\n do_deletes=true\n max_delete_files=100%\n\
             package=tree\n site=file://{}\n local_dir={}\n{extra}",
            src.display(),
            out.display()
        ),
    )
    .unwrap();
    pk
}

#[test]
fn mirror_dry_run_rerun_and_json_report() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, out) = (tmp.path().join("src"), tmp.path().join("out"));
    fs::create_dir_all(src.join("sub")).unwrap();
    fs::write(src.join("a.txt"), "alpha").unwrap();
    fs::write(src.join("sub/b.txt"), "beta").unwrap();
    let pk = packages(tmp.path(), &src, &out, "");

    // -n: the plan in mirror.pl's "Should" forms, nothing created.
    mirror()
        .args(["-N", "-n"])
        .arg(&pk)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Should get file a.txt as a.txt (5)",
        ));
    assert!(!out.exists());

    let report = tmp.path().join("r.json");
    mirror()
        .args(["-N", "-d", "--report-json"])
        .arg(&report)
        .arg(&pk)
        .assert()
        .success()
        .stdout(predicate::str::contains("Got a.txt 5"))
        .stdout(predicate::str::contains("Got sub/b.txt 4"));
    assert_eq!(fs::read_to_string(out.join("sub/b.txt")).unwrap(), "beta");
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json[0]["package"], "tree");
    assert_eq!(json[0]["counts"]["files_fetched"], 2);
    assert_eq!(json[0]["listing_complete"], true);

    // Nothing to do the second time.
    mirror()
        .args(["-N", "-d"])
        .arg(&pk)
        .assert()
        .success()
        .stdout(predicate::str::contains("Got ").not());

    // A vanished file is deleted.
    fs::remove_file(src.join("a.txt")).unwrap();
    mirror()
        .args(["-N", "-d"])
        .arg(&pk)
        .assert()
        .success()
        .stdout(predicate::str::contains("unlink"));
    assert!(!out.join("a.txt").exists());
}

#[test]
fn package_selection_exact_glob_and_restart() {
    let (tmp, src) = one_file_source();
    let pk = tmp.path().join("p");
    let mut text = String::new();
    for name in ["gnu-emacs", "gnu-make", "x11"] {
        text.push_str(&format!(
            "package={name}\n site=file://{}\n local_dir={}/{name}\n",
            src.display(),
            tmp.path().display()
        ));
    }
    fs::write(&pk, text).unwrap();
    let listed = |args: &[&str]| {
        let out = mirror().arg("-N").args(args).arg(&pk).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with(' ') && !l.is_empty())
            .map(|l| l.split_whitespace().next().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(listed(&["-L", "-pgnu-make"]), ["gnu-make"]);
    assert_eq!(listed(&["-L", "-p", "gnu-*"]), ["gnu-emacs", "gnu-make"]);
    assert_eq!(listed(&["-L", "-Rgnu-make"]), ["gnu-make", "x11"]);
    mirror()
        .args(["-N", "-L", "-pnope"])
        .arg(&pk)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no package matches -p nope"));
    // -d -pPKG really runs only that package.
    mirror()
        .args(["-N", "-d", "-px11"])
        .arg(&pk)
        .assert()
        .success();
    assert!(tmp.path().join("x11/f").exists());
    assert!(!tmp.path().join("gnu-make").exists());
}

#[test]
fn k_overrides_apply_to_every_package() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, out) = (tmp.path().join("src"), tmp.path().join("out"));
    fs::create_dir(&src).unwrap();
    fs::write(src.join("keep.txt"), "k").unwrap();
    fs::write(src.join("skip.bin"), "s").unwrap();
    let pk = packages(tmp.path(), &src, &out, "");
    mirror()
        .args(["-N", "-kget_patt=\\.txt$"])
        .arg(&pk)
        .assert()
        .success();
    assert!(out.join("keep.txt").exists());
    assert!(!out.join("skip.bin").exists());
    mirror()
        .args(["-N", "-knope=1"])
        .arg(&pk)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown keyword `nope`"));
}

#[test]
fn a_failed_package_exits_1_and_the_next_still_runs() {
    let (tmp, src) = one_file_source();
    let pk = tmp.path().join("p");
    fs::write(
        &pk,
        format!(
            "package=gone\n site=file://{t}/no-such-tree\n local_dir={t}/gone\n\
             package=fine\n site=file://{s}\n local_dir={t}/fine\n",
            s = src.display(),
            t = tmp.path().display()
        ),
    )
    .unwrap();
    mirror().args(["-N"]).arg(&pk).assert().code(1);
    assert!(tmp.path().join("fine/f").exists());
}

#[test]
fn get_option_fetches_one_file_into_the_current_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    fs::create_dir_all(src.join("pub")).unwrap();
    fs::write(src.join("pub/README"), "read me").unwrap();
    fs::write(src.join("pub/other"), "no").unwrap();
    let cwd = tmp.path().join("here");
    fs::create_dir(&cwd).unwrap();
    mirror()
        .current_dir(&cwd)
        .arg(format!("-gfile://{}:/pub/README", src.display()))
        .assert()
        .success();
    assert_eq!(fs::read_to_string(cwd.join("README")).unwrap(), "read me");
    assert!(!cwd.join("other").exists());
}

#[test]
fn snapshot_subcommand_with_a_missing_recipe_is_a_usage_error() {
    // `snapshot` is a subcommand, not a packages file named "snapshot".
    mirror()
        .args(["snapshot", "run", "/nonexistent/r.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/nonexistent/r.toml"));
}
