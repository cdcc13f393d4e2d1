//! The text of `mirror --help` and `mirror -v`.

/// The version line printed by `-v` / `--version`.
pub fn version() -> String {
    format!(
        "mirror {} (successor of mirror.pl 2.9; reads its packages files and options)\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// The help text. It explains mirror.pl's forms and the new long ones side by side.
pub const HELP: &str = "\
mirror - keep local copies of remote trees up to date (the successor of mirror.pl)

USAGE
    mirror [OPTIONS] PACKAGES-FILE...
    mirror -gSITE:PATH ...                 fetch one path into the current folder
    mirror -P|-G -sSITE LOCAL REMOTE [PATTERN] ...   put or get without a packages file
    mirror snapshot SUBCOMMAND ...         build offline copies of a website

A packages file lists packages: `package=NAME` starts one, then `keyword=value` lines
(site, remote_dir, local_dir, get_patt, exclude_patt, do_deletes, ...). Files are read as
one stream after the defaults file (mirror.defaults in /etc/mirror/, then beside the
program). `site` is a host name (FTP) or a URL: ftp:// ftps:// http:// https:// sftp://
s3:// file:///. Every keyword is listed in the README.

OPTIONS (mirror.pl's forms, then the long form where there is one)
    -d              --debug            more detail on stdout (repeat: -d -d ...)
    -n              --dry-run          change nothing; print what would be done
                                       (\"Should get ...\", \"Should delete ...\")
    -pPKG, -p PKG   --package PKG      only this package (exact name or a glob like
                                       'gnu-*'); repeatable
    -RPKG, -R PKG   --restart-from PKG skip packages until PKG, then do it and the rest
    -L              --list             print the packages and what they mirror, then stop
    -N              --no-defaults      do not read mirror.defaults
                    --defaults FILE    read FILE as the defaults file
    -kKEY=VALUE     --set KEY=VALUE    override a keyword for every package
    -r                                 recursive=false
    -f              --force            force=true: fetch every selected file
    -m                                 mode_copy=true
    -t                                 text_mode=true
    -sSITE                             site=SITE for every package
    -uUSER                             remote_user=USER, ask for the password
    -T              --times-only       transfer nothing; set local times to the remote's
    -F                                 use_files=true (accepted, no effect)
    -U[FILE]        --upload-log[=FILE] append a line per fetched file to FILE
                                       (default: ./upload_log.DAY.MONTH.YEAR)
    -jN, -j N       --parallel N       transfers at once (keyword `parallel`, default 4)
    -CFILE                             read FILE as a packages file (old form)
    -gSITE:PATH                        get PATH from SITE into the current folder
    -P / -G                            put / get the LOCAL REMOTE [PATTERN] triples
                    --report-json FILE write a JSON report, one object per package
                    --wait-lock        wait for another run of the same package instead
                                       of skipping it
                    --no-progress      no progress bars (they only ever appear on a
                                       terminal)
    -v              --version          print the version
    -h              --help             print this help
    --                                 end of options

EXIT STATUS
    0  every package succeeded (or there was nothing to do)
    1  at least one package failed (a transfer, a listing, a lock, the local folder)
    2  bad command line or configuration (an unknown keyword, a bad regex, ...)

EXAMPLES
    mirror -d packages                 mirror every package, reporting as it goes
    mirror -n -d packages              show what would change, change nothing
    mirror -d -pgnu packages           mirror only package `gnu`
    mirror -L packages                 list the packages
";
