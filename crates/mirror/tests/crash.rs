//! Crash safety of the real binary (safety invariant 1, spec §4.5, §4.8): `mirror -j4`
//! killed with SIGKILL at many points of many runs never leaves a partial file under a
//! final name, a kill in the middle of a deletion pass removes nothing but deletion
//! candidates, and one uninterrupted run afterwards converges to the source.
//!
//! The source changes between runs (files rewritten, added and removed) so that every run
//! has work to be killed in. Kill delays come from a seeded generator, spread over how long
//! a run was last seen to take (first: one uncut, timed run of the whole tree). Deletion
//! passes are killed right after the run reports its k-th deletion, k drawn the same way.
//! The trees live on tmpfs when there is one (see DESIGN.md on ext4 and bulk deletes).

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs;
use std::hash::Hasher;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::*;
use mirror_testkit::{Compare, assert_trees_equal_with, snapshot};

/// Seed of everything random here: the tree, the changes, the kill points.
const SEED: u64 = 0x6d69_7272_6f72_2121;
/// Files of 1 KiB to 256 KiB (log-uniform) in the first tree.
const SMALL_FILES: usize = 2500;
/// Files of 8 MiB, so that some kills land in the middle of one transfer.
const BIG_FILES: usize = 3;
const BIG_SIZE: usize = 8 << 20;
/// Timed kills that must land (the process was still running) before the final run.
const MIN_KILLS: usize = 30;
/// Kills that must land in the middle of a deletion pass, besides.
const MIN_DELETION_KILLS: usize = 3;
/// Give up (and fail) after this many runs.
const MAX_ROUNDS: usize = 200;
/// A deletion round every this many rounds.
const DELETION_EVERY: usize = 4;

#[test]
fn killed_runs_never_leave_partial_files_and_the_next_run_converges() {
    let mut rng = Rng(SEED);
    let fx = Fixture::in_dir(scratch_dir());
    let mut src = Source::new(fx.src.root(), &mut rng);
    src.populate(&mut rng);
    let deleting = [
        "do_deletes=true",
        "max_delete_files=100%",
        "max_delete_dirs=100%",
    ];

    // Calibration: one uncut run of the whole tree, then start again from nothing.
    let started = Instant::now();
    let status = spawn(&fx, Stdio::null()).wait().expect("wait");
    assert!(status.success(), "calibration run: {status}");
    let mut run_time = started.elapsed();
    fs::remove_dir_all(&fx.dst).expect("remove the calibration copy");

    let mut verified = Verified::default();
    let mut stats = Stats::default();
    for round in 0..MAX_ROUNDS {
        if stats.kills >= MIN_KILLS && stats.deletion_kills >= MIN_DELETION_KILLS {
            break;
        }
        let deletion_round = round % DELETION_EVERY == DELETION_EVERY - 1;
        if round > 0 {
            src.change(&mut rng, deletion_round);
        }
        fx.packages(if deletion_round { &deleting } else { &[] });
        let before = final_names(&fx.dst);
        // Paths the run may delete: what the source no longer has (deletion rounds only).
        let doomed: BTreeSet<&String> = before.iter().filter(|p| !src.has(p)).collect();

        let (status, ran) = if deletion_round {
            let k = 1 + rng.below((doomed.len() as u64 / 2).max(1)) as usize;
            kill_after_deletions(&fx, k)
        } else {
            let delay = run_time.mul_f64(rng.unit());
            kill_after(&fx, delay)
        };
        let killed = match (status.signal(), status.code()) {
            (Some(9), _) => true,
            (None, Some(0)) => false,
            _ => panic!(
                "round {round}: mirror ended with {status}; stderr:\n{}",
                fs::read_to_string(fx.tmp.path().join("stderr")).unwrap_or_default()
            ),
        };
        if !killed {
            // It finished first: the next delays are spread over what a run takes now.
            run_time = ran;
        }

        // Invariant 1: every final name holds a complete version of its source file.
        let (temps, partial) = verified.check(&fx.dst, &src, round);
        // Nothing but candidates vanished (without do_deletes: nothing at all).
        let after = final_names(&fx.dst);
        let vanished: Vec<&String> = before
            .iter()
            .filter(|p| !after.contains(*p))
            .filter(|p| !(deletion_round && doomed.contains(p)))
            .collect();
        assert!(
            vanished.is_empty(),
            "round {round}: vanished but not deletion candidates: {vanished:?}"
        );
        if killed && deletion_round {
            let left = doomed.iter().filter(|p| after.contains(**p)).count();
            if left > 0 && left < doomed.len() {
                stats.deletion_kills += 1;
            }
        } else if killed {
            stats.kills += 1;
            stats.kills_leaving_temps += usize::from(temps > 0);
            stats.partial_temps += partial;
        }
        stats.rounds = round + 1;
    }
    assert!(
        stats.kills >= MIN_KILLS && stats.deletion_kills >= MIN_DELETION_KILLS,
        "too few kills landed in {MAX_ROUNDS} runs: {stats:?}"
    );
    assert!(
        stats.kills_leaving_temps > 0,
        "no kill ever interrupted a transfer: {stats:?}"
    );

    // One uninterrupted run converges: the copy equals the source, no temp file is left.
    fx.packages(&deleting);
    let status = spawn(&fx, Stdio::null()).wait().expect("wait");
    assert!(status.success(), "final run: {status}");
    assert_trees_equal_with(
        &mirrored_view(snapshot(fx.src.root())),
        &mirrored_view(snapshot(&fx.dst)),
        Compare::MIRRORED,
    );
    report(&stats);
}

/// What the kills hit, for the assertions and the summary line.
#[derive(Debug, Default)]
struct Stats {
    /// Runs started (the calibration and final runs not counted).
    rounds: usize,
    /// Timed kills that landed.
    kills: usize,
    /// Of which left temp files behind (a transfer was in flight).
    kills_leaving_temps: usize,
    /// Temp files found shorter or longer than their source file, over all those kills.
    partial_temps: usize,
    /// Kills that landed in a deletion pass (some candidates gone, some not).
    deletion_kills: usize,
}

#[allow(clippy::print_stderr)]
fn report(stats: &Stats) {
    eprintln!("crash test: {stats:?}");
}

/// A temp dir on tmpfs when there is one.
fn scratch_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    let builder = tempfile::Builder::new().prefix("mirror-crash-").to_owned();
    if shm.is_dir()
        && let Ok(dir) = builder.tempdir_in(shm)
    {
        return dir;
    }
    builder.tempdir().expect("a temp dir")
}

/// Starts `mirror -N -j4 PACKAGES` with stdout going to `stdout`.
fn spawn(fx: &Fixture, stdout: Stdio) -> std::process::Child {
    let stderr = fs::File::create(fx.tmp.path().join("stderr")).expect("stderr file");
    Command::new(mirror_bin())
        .env("MIRROR_LOCK_DIR", &fx.locks)
        .args(["-N", "-j4"])
        .arg(&fx.packages)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .expect("start mirror")
}

/// Runs mirror and SIGKILLs it after `delay` unless it finished. Returns how it ended and
/// how long it ran.
fn kill_after(fx: &Fixture, delay: Duration) -> (ExitStatus, Duration) {
    let started = Instant::now();
    let mut child = spawn(fx, Stdio::null());
    std::thread::sleep(delay);
    // A child that already exited is a zombie until waited for: the kill cannot hit another
    // process, and the status says whether it landed.
    child.kill().expect("kill");
    let status = child.wait().expect("wait");
    (status, started.elapsed())
}

/// Runs mirror and SIGKILLs it as soon as it has reported its `k`-th deletion.
fn kill_after_deletions(fx: &Fixture, k: usize) -> (ExitStatus, Duration) {
    let started = Instant::now();
    let mut child = spawn(fx, Stdio::piped());
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut seen = 0;
    let mut line = String::new();
    while out.read_line(&mut line).expect("read stdout") > 0 {
        if line.starts_with("unlink ") || line.starts_with("rmdir ") {
            seen += 1;
            if seen == k {
                child.kill().expect("kill");
                break;
            }
        }
        line.clear();
    }
    let _ = out.read_to_end(&mut Vec::new());
    let status = child.wait().expect("wait");
    (status, started.elapsed())
}

/// Whether a file name is one of mirror's temp names, `.in.NAME.`.
fn is_temp(name: &str) -> bool {
    name.len() > 5 && name.starts_with(".in.") && name.ends_with('.')
}

/// Every path under `root` that is not a temp file (nor under a temp folder).
fn final_names(root: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if !root.exists() {
        return out;
    }
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, rel)) = stack.pop() {
        for de in fs::read_dir(&dir).expect("read_dir") {
            let de = de.expect("read_dir entry");
            let name = de.file_name().to_string_lossy().into_owned();
            if is_temp(&name) {
                continue;
            }
            let path = join(&rel, &name);
            if de.file_type().expect("file type").is_dir() {
                stack.push((de.path(), path.clone()));
            }
            out.insert(path);
        }
    }
    out
}

fn join(rel: &str, name: &str) -> String {
    if rel.is_empty() {
        name.to_owned()
    } else {
        format!("{rel}/{name}")
    }
}

/// The files already found complete, by identity, so each version is read once.
#[derive(Default)]
struct Verified(HashMap<String, (u64, u64, i64, i64)>);

impl Verified {
    /// Checks every final name under `dst` against everything the source ever held there:
    /// a file must be byte for byte one complete version, a folder or link must have been
    /// one. Returns how many temp files there are, and how many of them are partial
    /// (shorter or longer than the source file now).
    fn check(&mut self, dst: &Path, src: &Source, round: usize) -> (usize, usize) {
        let (mut temps, mut partial) = (0, 0);
        let mut stack = vec![(dst.to_path_buf(), String::new())];
        while let Some((dir, rel)) = stack.pop() {
            for de in fs::read_dir(&dir).expect("read_dir") {
                let de = de.expect("read_dir entry");
                let name = de.file_name().to_string_lossy().into_owned();
                let path = join(&rel, &name);
                if is_temp(&name) {
                    temps += 1;
                    let size = de.metadata().expect("stat").len();
                    let of = join(&rel, &name[".in.".len()..name.len() - 1]);
                    partial += usize::from(src.files.get(&of) != Some(&size));
                    continue;
                }
                let md = fs::symlink_metadata(de.path()).expect("lstat");
                if md.is_dir() {
                    assert!(
                        src.dirs_ever.contains(&path),
                        "round {round}: folder {path} was never in the source"
                    );
                    stack.push((de.path(), path));
                } else if md.file_type().is_symlink() {
                    let target = fs::read_link(de.path()).expect("readlink");
                    assert_eq!(
                        src.links.get(&path).map(PathBuf::from),
                        Some(target),
                        "round {round}: symlink {path}"
                    );
                } else {
                    let id = (md.ino(), md.len(), md.ctime(), md.ctime_nsec());
                    if self.0.get(&path) == Some(&id) {
                        continue;
                    }
                    let bytes = fs::read(de.path()).expect("read");
                    let version = (bytes.len() as u64, digest(&bytes));
                    assert!(
                        src.versions
                            .get(&path)
                            .is_some_and(|v| v.contains(&version)),
                        "round {round}: {path} ({} bytes) under its final name is no \
                         complete version of the source file",
                        bytes.len()
                    );
                    self.0.insert(path, id);
                }
            }
        }
        (temps, partial)
    }
}

fn digest(bytes: &[u8]) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    h.write(bytes);
    h.finish()
}

/// The source tree as the test wrote it, and every version each path ever had.
struct Source {
    root: PathBuf,
    /// Random bytes file contents are cut from.
    pool: Vec<u8>,
    /// The files there now, with their size.
    files: BTreeMap<String, u64>,
    /// The folders there now.
    dirs: BTreeSet<String>,
    /// Every folder there ever was.
    dirs_ever: HashSet<String>,
    /// The symlinks (never changed) and their targets.
    links: BTreeMap<String, String>,
    /// Every `(size, digest)` each path ever held.
    versions: HashMap<String, HashSet<(u64, u64)>>,
    /// Versions written so far: makes each content and time unique.
    serial: i64,
}

impl Source {
    fn new(root: &Path, rng: &mut Rng) -> Source {
        let mut pool = Vec::with_capacity(1 << 20);
        while pool.len() < 1 << 20 {
            pool.extend_from_slice(&rng.next().to_le_bytes());
        }
        Source {
            root: root.to_path_buf(),
            pool,
            files: BTreeMap::new(),
            dirs: BTreeSet::new(),
            dirs_ever: HashSet::new(),
            links: BTreeMap::new(),
            versions: HashMap::new(),
            serial: 0,
        }
    }

    /// The first tree: small files in 25 × 6 folders, the big files, two symlinks.
    fn populate(&mut self, rng: &mut Rng) {
        for i in 0..SMALL_FILES {
            let path = format!("d{:02}/e{}/f{i:05}.dat", i % 25, (i / 25) % 6);
            let size = small_size(rng);
            self.write(&path, size);
        }
        for i in 0..BIG_FILES {
            self.write(&format!("big/b{i}.bin"), BIG_SIZE);
        }
        self.write("stable/file", 100);
        self.link("links/to-file", "../stable/file");
        self.link("links/to-dir", "../stable");
    }

    /// Changes between two runs: some files rewritten (new content, size and time), some
    /// added, sometimes a big file rewritten; in deletion rounds about a tenth of the
    /// files and a whole folder removed.
    fn change(&mut self, rng: &mut Rng, deletions: bool) {
        let files: Vec<String> = self
            .files
            .keys()
            .filter(|p| !p.starts_with("stable/"))
            .cloned()
            .collect();
        for path in &files {
            if path.starts_with("big/") {
                if rng.chance(0.3) {
                    self.write(path, BIG_SIZE - rng.below(4096) as usize);
                }
            } else if rng.chance(0.06) {
                self.write(path, small_size(rng));
            }
        }
        for i in 0..(SMALL_FILES / 50) {
            let path = format!(
                "d{:02}/n{}/g{}-{i}.dat",
                rng.below(25),
                rng.below(3),
                self.serial
            );
            self.write(&path, small_size(rng));
        }
        if deletions {
            for path in files.iter().filter(|p| !p.starts_with("big/")) {
                if rng.chance(0.1) {
                    self.remove_file(path);
                }
            }
            let leaves: Vec<String> = self
                .dirs
                .iter()
                .filter(|d| d.matches('/').count() == 1)
                .cloned()
                .collect();
            if !leaves.is_empty() {
                let victim = leaves[rng.below(leaves.len() as u64) as usize].clone();
                self.remove_dir(&victim);
            }
        }
    }

    fn has(&self, path: &str) -> bool {
        self.files.contains_key(path) || self.dirs.contains(path) || self.links.contains_key(path)
    }

    /// Writes a new version of `path`: unique bytes (a header naming path and version,
    /// then bytes from the pool) and a unique time, newer than any before. Times step by
    /// 7 s so that no two versions are exactly 3600 s apart (§4.9 would ignore that).
    fn write(&mut self, path: &str, size: usize) {
        self.serial += 1;
        let header = format!("{path} version {}\n", self.serial);
        let mut bytes = Vec::with_capacity(size);
        bytes.extend_from_slice(header.as_bytes());
        let mut at = (self.serial as usize * 7919) % self.pool.len();
        while bytes.len() < size {
            let n = (size - bytes.len()).min(self.pool.len() - at);
            bytes.extend_from_slice(&self.pool[at..at + n]);
            at = 0;
        }
        bytes.truncate(size);
        let abs = self.root.join(path);
        self.add_parents(path);
        if abs.exists() {
            fs::remove_file(&abs).expect("remove the old version");
        }
        fs::write(&abs, &bytes).expect("write a source file");
        let t = filetime::FileTime::from_unix_time(T0 + 7 * self.serial, 0);
        filetime::set_file_times(&abs, t, t).expect("set the source time");
        self.versions
            .entry(path.to_owned())
            .or_default()
            .insert((bytes.len() as u64, digest(&bytes)));
        self.files.insert(path.to_owned(), bytes.len() as u64);
    }

    fn link(&mut self, path: &str, target: &str) {
        self.add_parents(path);
        std::os::unix::fs::symlink(target, self.root.join(path)).expect("symlink");
        self.links.insert(path.to_owned(), target.to_owned());
    }

    /// Creates (and records) the folders above `path`.
    fn add_parents(&mut self, path: &str) {
        let mut dir = String::new();
        let parts: Vec<&str> = path.split('/').collect();
        for part in &parts[..parts.len() - 1] {
            dir = join(&dir, part);
            if self.dirs.insert(dir.clone()) {
                fs::create_dir_all(self.root.join(&dir)).expect("mkdir");
                self.dirs_ever.insert(dir.clone());
            }
        }
    }

    fn remove_file(&mut self, path: &str) {
        fs::remove_file(self.root.join(path)).expect("remove a source file");
        self.files.remove(path);
    }

    fn remove_dir(&mut self, dir: &str) {
        fs::remove_dir_all(self.root.join(dir)).expect("remove a source folder");
        let prefix = format!("{dir}/");
        self.files.retain(|p, _| !p.starts_with(&prefix));
        self.dirs.retain(|p| p != dir && !p.starts_with(&prefix));
    }
}

/// 1 KiB to 256 KiB, log-uniform: mostly small files, some large.
fn small_size(rng: &mut Rng) -> usize {
    (1024.0 * 256f64.powf(rng.unit())) as usize
}

/// SplitMix64: small, fast, and the same sequence everywhere for a seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}
