//! The `imgsig` binary: parse arguments, run, map the outcome to an exit code.
//! The command line (`cli`) belongs to the binary; the library is `imgsig`.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

mod cli;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = match cli::Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are successes; usage errors exit 2.
            let _ = e.print();
            if !e.use_stderr() {
                return ExitCode::SUCCESS;
            }
            cli::report_usage_error(&args, &e.render().to_string());
            return ExitCode::from(2);
        }
    };
    ExitCode::from(cli::run(cli) as u8)
}
