//! The `imgsig` binary: parse arguments, run, map the outcome to an exit code.
//! The command line (`cli`) belongs to the binary; the library is `imgsig`.
//!
//! imgsig starts through std's entry point, and relies on what std's start-up
//! does on Unix before `main` (`std::sys::pal::unix::init`), tested in
//! tests/process.rs:
//! - a closed stdin, stdout or stderr is opened on /dev/null, so that no file
//!   imgsig opens can become descriptor 1 or 2 and receive its report;
//! - SIGPIPE is ignored, so a reader that went away (`imgsig … | head -c1`) is
//!   a write error and imgsig ends with its verdict's exit code instead of
//!   being killed by the signal;
//! - a stack overflow is reported as one, a panic exits 101 after the panic
//!   hook printed it, and stdout is flushed when `main` returns.
// The library forbids unsafe code; the binary's one audited exception is
// `tune_allocator` (mallopt).
#![deny(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

mod cli;

// Leaf modules the binary shares with the library by source: one mechanism
// each (the terminal escaping every message goes through, the bounded reader
// and atomic writer, the size limits, the time format), compiled into both
// crates, and part of neither's public API (the library keeps them private).
#[allow(dead_code)]
mod files;
#[allow(dead_code)]
mod limits;
#[allow(dead_code)]
mod shown;
#[allow(dead_code)]
mod time;

fn main() -> ExitCode {
    // sequoia builds and drops `anyhow` errors on good paths (e.g. looking up
    // binding signatures while checking that a key is alive); with
    // RUST_BACKTRACE set in the environment each of them would capture a
    // backtrace (about a third of the time of a bulk verification). Library
    // backtraces are therefore off unless asked for with RUST_LIB_BACKTRACE;
    // panics keep theirs (RUST_BACKTRACE). Done first, before any thread exists.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
    tune_allocator();
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
    if cli.global.debug {
        install_debug_log();
    }
    ExitCode::from(cli::run(cli) as u8)
}

/// `--debug`: the library's debug events (only imgsig's own, not its dependencies') on
/// stderr, one `imgsig: debug: …` line each. Without the flag no subscriber exists.
fn install_debug_log() {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt as _;
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .event_format(DebugLine);
    let subscriber = tracing_subscriber::registry()
        .with(Targets::new().with_target("imgsig", LevelFilter::DEBUG))
        .with(fmt);
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// One debug event as a line in the house style.
struct DebugLine;

impl<S, N> tracing_subscriber::fmt::FormatEvent<S, N> for DebugLine
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut w: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        w.write_str("imgsig: debug: ")?;
        tracing_subscriber::fmt::FormatFields::format_fields(ctx, w.by_ref(), event)?;
        writeln!(w)
    }
}

/// glibc hands the free memory at the top of each thread's heap back to the
/// kernel as soon as it exceeds 128 KiB (madvise, then page faults and zeroing
/// when it is used again): verifying a compressed (gpg-made) signature
/// allocates and frees the inflate state and buffers of about that size per
/// message, so a bulk run spent more time in the kernel than in RSA. Keeping
/// up to 256 MiB (the process peaks near 12 MB) makes the bulk form 1.9×
/// faster on gpg-made signatures (docs/performance.md); no other effect.
///
/// The binary's only `unsafe` code, kept because it was measured (above) and
/// audited: one call with two integer arguments, no pointers and no memory
/// handed over, made before any thread exists (glibc marks mallopt
/// MT-Unsafe; std's start-up starts no thread before `main`).
#[allow(unsafe_code)]
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes malloc's tuning parameters; it is called
    // once, first thing in main, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
    }
}
