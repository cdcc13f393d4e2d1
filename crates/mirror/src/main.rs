//! `mirror`: the command-line program. It parses arguments, resolves packages into settings,
//! runs each package through the sync engine and prints what happened. No sync logic lives
//! here.

mod cli;
mod exit;
mod help;
mod printer;
mod run;
mod settings;
mod signals;
mod snapshot;

use std::process::ExitCode;

#[allow(clippy::print_stdout, clippy::print_stderr)]
fn main() -> ExitCode {
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    if args.is_empty() {
        eprintln!("mirror: no packages file given\nTry `mirror --help` for help.");
        return ExitCode::from(exit::USAGE);
    }
    let code = match cli::parse(args) {
        Err(e) => {
            eprintln!("mirror: {e}\nTry `mirror --help` for help.");
            exit::USAGE
        }
        Ok(cli::Command::Help) => {
            print!("{}", help::HELP);
            exit::OK
        }
        Ok(cli::Command::Version) => {
            print!("{}", help::version());
            exit::OK
        }
        Ok(cli::Command::Snapshot(words)) => snapshot::main(words),
        Ok(cli::Command::Run(args)) => run::run(*args),
    };
    ExitCode::from(code)
}
