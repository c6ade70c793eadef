//! The `imgsig` binary: parse arguments, run, map the outcome to an exit code.
//! The command line (`cli`) belongs to the binary; the library is `imgsig`.
// The audited `unsafe` code is here: the entry point, what it does in place
// of std's start-up (module `start`), and mallopt. The library forbids unsafe
// code.
#![deny(unsafe_code)]
// imgsig has its own entry point instead of std's, whose start-up reads and
// parses /proc/self/maps (module `start`). Unit tests keep the test
// harness's main.
#![cfg_attr(not(test), no_main)]

use clap::Parser;

mod cli;

/// The process's entry point, in place of std's (module `start`).
#[cfg(not(test))]
#[allow(unsafe_code)]
#[no_mangle]
extern "C" fn main(argc: libc::c_int, argv: *const *const libc::c_char) -> libc::c_int {
    start::prepare();
    // SAFETY: argc and argv are what the C runtime passes to main.
    let args = unsafe { start::args(argc, argv) };
    // As std's entry does: a panic has already been printed by the panic
    // hook (with its backtrace under RUST_BACKTRACE); the process exits 101.
    let code = std::panic::catch_unwind(|| run(args)).unwrap_or(101);
    // std::process::exit flushes stdout first, as returning from std's main does.
    std::process::exit(code)
}

/// Everything the binary does, given its arguments; returns the exit code.
#[cfg_attr(test, allow(dead_code))]
fn run(args: Vec<std::ffi::OsString>) -> i32 {
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
    let cli = match cli::Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are successes; usage errors exit 2.
            let _ = e.print();
            if !e.use_stderr() {
                return 0;
            }
            cli::report_usage_error(&args, &e.render().to_string());
            return 2;
        }
    };
    if cli.global.debug {
        install_debug_log();
    }
    i32::from(cli::run(cli) as u8)
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
#[allow(unsafe_code)]
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes malloc's tuning parameters; it is called
    // once, first thing in main, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
    }
}

/// What std's entry point (`lang_start`) does before `main`, without its
/// costly part.
///
/// std's start-up also prepares its "has overflowed its stack" message. To
/// find the main thread's stack guard it calls glibc's `pthread_getattr_np`,
/// which opens /proc/self/maps and parses it with `sscanf`: about 104,000
/// instructions and 7 page faults in every run, and 0.41 ms of a one-shot
/// verify's 3.7 ms when timed interleaved on the project machine
/// (docs/performance.md).
/// imgsig's entry point does the rest of what std's does on Linux:
/// - closed descriptors 0, 1 and 2 are opened on /dev/null, so that no file
///   imgsig opens can become its stdout or stderr;
/// - SIGPIPE is ignored, so when a reader goes away (`imgsig … | head -1`)
///   the write fails and imgsig still ends with its verdict's exit code,
///   instead of being killed by the signal;
/// - a panic exits with 101 after the panic hook printed it (`main`);
/// - stdout is flushed at exit (`std::process::exit` does it).
///
/// Left out: a stack overflow still stops at the guard page, but as a plain
/// SIGSEGV without std's message; a panic on the main thread names the
/// thread `<unnamed>` instead of `main`.
#[cfg(not(test))]
#[allow(unsafe_code)]
mod start {
    pub fn prepare() {
        // SAFETY: poll, fcntl, open and signal get valid arguments (a local
        // array of three pollfd, a NUL-terminated path, SIG_IGN), and this
        // runs first in the process, before any other thread exists.
        unsafe {
            let mut fds = [0, 1, 2].map(|fd| libc::pollfd {
                fd,
                events: 0,
                revents: 0,
            });
            let polled = loop {
                if libc::poll(fds.as_mut_ptr(), 3, 0) != -1 {
                    break true;
                }
                if std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                    break false;
                }
            };
            for pfd in fds {
                let closed = if polled {
                    pfd.revents & libc::POLLNVAL != 0
                } else {
                    libc::fcntl(pfd.fd, libc::F_GETFD) == -1
                        && std::io::Error::last_os_error().raw_os_error() == Some(libc::EBADF)
                };
                // open takes the lowest free descriptor, which is this one.
                if closed && libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) == -1 {
                    libc::abort();
                }
            }
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        }
    }

    /// The arguments from `main`'s own `argc`/`argv`. Without std's entry
    /// point, `std::env::args` has them only where std can take them from
    /// the C library's initialisers (glibc passes them there; other C
    /// libraries need not), so they are taken from `main` everywhere.
    ///
    /// # Safety
    /// `argv` must hold `argc` pointers to NUL-terminated strings, as the C
    /// runtime passes them to `main`.
    pub unsafe fn args(argc: libc::c_int, argv: *const *const libc::c_char) -> Vec<std::ffi::OsString> {
        use std::os::unix::ffi::OsStrExt as _;
        let n = usize::try_from(argc).unwrap_or(0);
        (0..n)
            .map(|i| {
                // SAFETY: i < argc, and each entry is a NUL-terminated string (the caller's promise).
                let arg = unsafe { std::ffi::CStr::from_ptr(*argv.add(i)) };
                std::ffi::OsStr::from_bytes(arg.to_bytes()).to_owned()
            })
            .collect()
    }
}
