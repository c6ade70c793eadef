//! The `imgsig` binary: parse arguments, run, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = match imgsig::cli::Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are successes; usage errors exit 2.
            let _ = e.print();
            if !e.use_stderr() {
                return ExitCode::SUCCESS;
            }
            imgsig::cli::report_usage_error(&args, &e.render().to_string());
            return ExitCode::from(2);
        }
    };
    ExitCode::from(imgsig::cli::run(cli) as u8)
}
