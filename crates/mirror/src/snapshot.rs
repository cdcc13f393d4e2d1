//! `mirror snapshot ...`: the site-snapshot subcommands. Parses the words after
//! `snapshot`, loads the recipe, runs the engine (`mirror-snapshot`) and prints what it
//! reports: the stages' findings, then the one-line summary every run ends with.
//!
//! Exit status as for packages: 0 ok, 1 a failure (a fetch, verify, publishing, the work
//! folder), 2 a bad command line or recipe.

use std::ffi::OsString;
use std::path::PathBuf;

use mirror_snapshot::{Command, Options, Recipe, RunReport, execute, verify_dir};
use tokio_util::sync::CancellationToken;

use crate::exit;
use crate::printer::Printer;

/// `mirror snapshot --help`.
pub const HELP: &str = "\
mirror snapshot - build, verify and publish offline copies of a website

USAGE
    mirror snapshot run RECIPE        all stages: create, localize, rewrite, prune, verify,
                                      publish (continues an interrupted run)
    mirror snapshot create RECIPE     start a build in work_dir/<UTC time>/ from [[copy]]
    mirror snapshot update RECIPE     localize, rewrite and prune the build in progress
    mirror snapshot verify RECIPE     check the build in progress (else work_dir/current)
    mirror snapshot verify DIR        check any folder: every local link must resolve
    mirror snapshot publish RECIPE    make the build current and sync it to `publish`

OPTIONS
    -d, --debug             more detail (repeat for more)
    -f, --force             publish even when verify fails
        --report-json FILE  also write the full report as JSON
    -h, --help              this text

The recipe (TOML) is described in the README (\"Site snapshots\").
";

/// The parsed words after `snapshot`.
#[derive(Debug, Default, PartialEq, Eq)]
struct Args {
    command: Option<Command>,
    target: Option<PathBuf>,
    debug: u8,
    force: bool,
    report_json: Option<PathBuf>,
    help: bool,
}

fn parse(words: Vec<OsString>) -> Result<Args, String> {
    let mut a = Args::default();
    let mut it = words.into_iter();
    while let Some(w) = it.next() {
        let Some(s) = w.to_str() else {
            // Not UTF-8: only a path can be.
            if a.command.is_some() && a.target.is_none() {
                a.target = Some(PathBuf::from(w));
                continue;
            }
            return Err(format!("unexpected argument {}", w.to_string_lossy()));
        };
        match s {
            "-h" | "--help" | "help" if a.command.is_none() || s != "help" => a.help = true,
            "-f" | "--force" => a.force = true,
            "--report-json" => {
                let v = it.next().ok_or("--report-json needs a file")?;
                a.report_json = Some(PathBuf::from(v));
            }
            _ if s.starts_with("--report-json=") => {
                a.report_json = Some(PathBuf::from(&s["--report-json=".len()..]));
            }
            _ if s.starts_with("-d") && s[1..].chars().all(|c| c == 'd') => {
                a.debug = a.debug.saturating_add((s.len() - 1) as u8);
            }
            "--debug" => a.debug = a.debug.saturating_add(1),
            _ if s.starts_with('-') && s.len() > 1 => return Err(format!("unknown option {s}")),
            _ if a.command.is_none() => {
                a.command = Some(match s {
                    "run" => Command::Run,
                    "create" => Command::Create,
                    "update" => Command::Update,
                    "verify" => Command::Verify,
                    "publish" => Command::Publish,
                    _ => return Err(format!("unknown subcommand `{s}`")),
                });
            }
            _ if a.target.is_none() => a.target = Some(PathBuf::from(s)),
            _ => return Err(format!("unexpected argument {s}")),
        }
    }
    if a.help {
        return Ok(a);
    }
    if a.command.is_none() {
        return Err("which subcommand? run, create, update, verify or publish".into());
    }
    if a.target.is_none() {
        return Err(if a.command == Some(Command::Verify) {
            "verify needs a recipe or a folder".into()
        } else {
            "a recipe file is needed".into()
        });
    }
    Ok(a)
}

/// Runs `mirror snapshot` with the words after `snapshot`; returns the exit status.
pub fn main(words: Vec<OsString>) -> u8 {
    let printer = Printer::new(0, false);
    let args = match parse(words) {
        Ok(a) => a,
        Err(e) => {
            printer.error(&format!(
                "mirror snapshot: {e}\nTry `mirror snapshot --help` for help."
            ));
            return exit::USAGE;
        }
    };
    if args.help {
        printer.line(HELP.trim_end());
        return exit::OK;
    }
    let printer = Printer::new(args.debug, true);
    let (Some(command), Some(target)) = (args.command, args.target.clone()) else {
        return exit::USAGE;
    };

    if command == Command::Verify && target.is_dir() {
        return match verify_dir(&target) {
            Ok(r) => {
                printer.line(r.to_text(50).trim_end());
                write_json(&printer, args.report_json.as_ref(), &r);
                if r.ok { exit::OK } else { exit::FAILED }
            }
            Err(e) => {
                printer.error(&format!("mirror snapshot: {}: {e}", target.display()));
                exit::FAILED
            }
        };
    }

    let recipe = match Recipe::load(&target) {
        Ok(r) => r,
        Err(e) => {
            printer.error(&format!("mirror snapshot: {e}"));
            return exit::USAGE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            printer.error(&format!(
                "mirror snapshot: cannot start the async runtime: {e}"
            ));
            return exit::FAILED;
        }
    };
    let cancel = CancellationToken::new();
    runtime.spawn(crate::signals::watch(cancel.clone()));
    let opts = Options {
        force: args.force,
        debug: args.debug,
        cancel,
    };
    let result = runtime.block_on(execute(&recipe, command, &opts, &printer));
    printer.finish_package();
    match result {
        Ok(report) => {
            print_report(&printer, &report, args.debug);
            write_json(&printer, args.report_json.as_ref(), &report);
            if report.ok { exit::OK } else { exit::FAILED }
        }
        Err(e) => {
            printer.error(&format!("mirror snapshot: {e}"));
            match e {
                mirror_snapshot::Error::Input(_) => exit::USAGE,
                _ => exit::FAILED,
            }
        }
    }
}

fn write_json<T: serde::Serialize>(printer: &Printer, file: Option<&PathBuf>, value: &T) {
    let Some(file) = file else { return };
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    if let Err(e) = std::fs::write(file, text + "\n") {
        printer.error(&format!("mirror snapshot: {}: {e}", file.display()));
    }
}

/// What a run found, then its summary line. Lists are cut at 20 lines (50 with `-d`); the
/// JSON report has everything.
fn print_report(p: &Printer, r: &RunReport, debug: u8) {
    let limit = if debug > 0 { 50 } else { 20 };
    for c in &r.copy {
        p.line(&format!(
            "copy {} -> /{}: {} copied, {} from the previous snapshot, {} deleted ({})",
            c.from, c.to, c.copied, c.seeded, c.deleted, c.status
        ));
        for f in c.failures.iter().take(limit) {
            p.line(&format!("  {f}"));
        }
    }
    if let Some(l) = &r.localize {
        p.line(&format!(
            "localize: {} wanted, {} present, {} linked from the previous snapshot, \
             {} fetched ({} bytes), {} failed",
            l.wanted,
            l.present,
            l.linked,
            l.fetched,
            l.bytes,
            l.failed.len()
        ));
        for f in l.failed.iter().take(limit) {
            let pages = if f.pages.is_empty() {
                "listed in [[media]]".to_owned()
            } else {
                format!("from {}", f.pages.join(", "))
            };
            p.line(&format!("  failed {}: {} ({pages})", f.url, f.error));
        }
    }
    if let Some(w) = &r.rewrite {
        p.line(&format!(
            "rewrite: {} documents, {} rewritten ({} as in the previous snapshot), \
             {} references, {} players replaced, {} kept, {} unreadable",
            w.documents,
            w.rewritten,
            w.linked_from_previous,
            w.references,
            w.embeds_replaced,
            w.embeds_kept.len(),
            w.unparsed.len()
        ));
        for k in w.embeds_kept.iter().take(limit) {
            p.line(&format!(
                "  kept player {} in {} ({} missing)",
                k.url, k.page, k.local
            ));
        }
        for (page, why) in w.unparsed.iter().take(limit) {
            p.line(&format!("  copied unchanged {page}: {why}"));
        }
    }
    if let Some(pr) = &r.prune {
        p.line(&format!(
            "prune: {} unreferenced files removed, {} temporary files removed",
            pr.removed.len(),
            pr.temporary
        ));
    }
    if let Some(c) = &r.changes {
        let text = c.to_text();
        let mut lines = text.lines();
        if let Some(first) = lines.next() {
            p.line(first);
        }
        for l in lines.take(limit) {
            p.line(&format!("  {l}"));
        }
    }
    if let Some(v) = &r.verify {
        p.line(v.to_text(limit).trim_end());
    }
    if let Some(pu) = &r.publish {
        let synced: Vec<String> = pu
            .passes
            .iter()
            .map(|s| format!("{}: {} copied, {} deleted", s.pass, s.copied, s.deleted))
            .collect();
        p.line(&format!(
            "publish: current -> {}{}{}",
            pu.current,
            pu.destination
                .as_ref()
                .map(|d| format!("; synced to {d} ({})", synced.join("; ")))
                .unwrap_or_default(),
            if pu.removed_builds.is_empty() {
                String::new()
            } else {
                format!("; removed {}", pu.removed_builds.join(", "))
            }
        ));
    }
    for problem in &r.problems {
        p.error(&format!("mirror snapshot: {problem}"));
    }
    p.line(&r.summary_line());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(words: &[&str]) -> Result<Args, String> {
        parse(words.iter().map(OsString::from).collect())
    }

    #[test]
    fn subcommands_and_options() {
        let a = p(&["run", "r.toml", "-d", "--force"]).unwrap();
        assert_eq!(a.command, Some(Command::Run));
        assert_eq!(a.target, Some(PathBuf::from("r.toml")));
        assert_eq!((a.debug, a.force), (1, true));
        let a = p(&["-dd", "verify", "dir", "--report-json", "x.json"]).unwrap();
        assert_eq!(a.command, Some(Command::Verify));
        assert_eq!(a.debug, 2);
        assert_eq!(a.report_json, Some(PathBuf::from("x.json")));
        assert!(p(&["--help"]).unwrap().help);
        assert!(p(&["help"]).unwrap().help);
        assert!(p(&["run"]).is_err());
        assert!(p(&["frobnicate", "x"]).is_err());
        assert!(p(&["run", "a", "b"]).is_err());
        assert!(p(&["run", "a", "--nope"]).is_err());
        assert!(p(&[]).is_err());
    }
}
