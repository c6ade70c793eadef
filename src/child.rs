//! The one way imgsig runs another program: credential helpers
//! (`docker-credential-*`), the `--sign-cmd` signing command, and `gpg` /
//! `gpgconf` for `--sign-by`. [`run`] feeds the program its stdin, reads its
//! stdout up to a size limit, passes its stderr through (or keeps a bounded
//! copy, or drops it), stops it at a time limit, and always reaps it.
//!
//! The answer is taken when the program itself exits, not when its stdout
//! reaches end of file: a program that leaves a background process behind
//! (a helper starting a daemon, `cmd &` in a `sh -c` line) hands that
//! process its stdout, and the end of file would come only when the
//! background process ends. Everything the program wrote before it exited is
//! already in the pipe, so after the exit imgsig reads what the pipe holds
//! (for at most [`GRACE`]) and stops. The pipes are read without blocking,
//! in this thread: no reader or writer thread is left behind waiting on a
//! pipe that a background process keeps open.
//!
//! Only the program itself is stopped at the time limit (SIGKILL), not what
//! it started: the program stays in imgsig's process group, so a helper can
//! still prompt on the terminal.
//!
//! Not part of the embedder API: public for the `imgsig` binary's `gpg`
//! calls.

use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long, after the program exited, its output is still read: what it
/// wrote is in the pipe already; this bounds a background process that keeps
/// writing into the inherited pipe.
pub const GRACE: Duration = Duration::from_millis(200);

/// How long to sleep when neither pipe had anything to read or write and the
/// program is still running.
const IDLE: Duration = Duration::from_millis(2);

/// What to do with the program's stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stderr {
    /// Passed through to imgsig's stderr (a helper may prompt there).
    Inherit,
    /// Kept, up to this many bytes (the rest is read and dropped).
    Capture(usize),
    /// Discarded.
    Null,
}

/// How to run a program.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Stopped (SIGKILL) after this long; `None`: no time limit.
    pub timeout: Option<Duration>,
    /// More stdout than this many bytes is refused (the program is stopped).
    pub max_output: usize,
    /// Where its stderr goes.
    pub stderr: Stderr,
}

/// A program that ran to its end.
#[derive(Debug)]
pub struct Finished {
    /// How it exited.
    pub status: ExitStatus,
    /// What it wrote to stdout (at most [`Limits::max_output`] bytes).
    pub stdout: Vec<u8>,
    /// What it wrote to stderr, with [`Stderr::Capture`] (up to its bound);
    /// callers that capture only to keep a program quiet never read it.
    #[cfg_attr(not(test), allow(dead_code))]
    pub stderr: Vec<u8>,
}

/// Why running a program gave no usable answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// It could not be started (not installed, not executable, …).
    #[error("cannot start it: {0}")]
    Start(#[source] io::Error),
    /// It ran past the time limit and was stopped.
    #[error("did not finish within {} s; it was stopped", .0.as_secs())]
    TimedOut(Duration),
    /// It wrote more than the limit to stdout and was stopped.
    #[error("wrote more than {0} bytes")]
    TooMuchOutput(usize),
    /// Reading from it, writing to it or waiting for it failed.
    #[error("{0}")]
    Io(#[source] io::Error),
}

impl RunError {
    /// The program was not found (on `PATH`).
    pub fn is_not_found(&self) -> bool {
        matches!(self, RunError::Start(e) if e.kind() == io::ErrorKind::NotFound)
    }
}

/// Run `program` with `args`, `stdin` as its standard input, within `limits`.
/// Returns when the program exits (see the module docs), or fails; the
/// program is always waited for, so it never stays a zombie.
pub fn run<S: AsRef<OsStr>>(
    program: impl AsRef<OsStr>,
    args: impl IntoIterator<Item = S>,
    stdin: &[u8],
    limits: &Limits,
) -> Result<Finished, RunError> {
    let mut command = Command::new(program);
    command.args(args);
    run_command(command, stdin, limits)
}

/// [`run`] for a prepared [`Command`] (its stdin, stdout and stderr are set here).
pub fn run_command(mut command: Command, stdin: &[u8], limits: &Limits) -> Result<Finished, RunError> {
    command
        .stdin(if stdin.is_empty() {
            Stdio::null()
        } else {
            Stdio::piped()
        })
        .stdout(Stdio::piped())
        .stderr(match limits.stderr {
            Stderr::Inherit => Stdio::inherit(),
            Stderr::Capture(_) => Stdio::piped(),
            Stderr::Null => Stdio::null(),
        });
    let started = Instant::now();
    let mut child = command.spawn().map_err(RunError::Start)?;
    let result = supervise(&mut child, stdin, limits, started);
    if result.is_err() {
        // Stopped early (time, size, I/O): make sure it is gone. Harmless if it exited.
        let _ = child.kill();
    }
    // Reap it in every case; after an exit or a SIGKILL this returns at once.
    let waited = child.wait();
    let (status, stdout, stderr) = result?;
    let status = status.map_or_else(|| waited.map_err(RunError::Io), Ok)?;
    Ok(Finished { status, stdout, stderr })
}

type Outcome = (Option<ExitStatus>, Vec<u8>, Vec<u8>);

fn supervise(child: &mut Child, input: &[u8], limits: &Limits, started: Instant) -> Result<Outcome, RunError> {
    let deadline = limits.timeout.map(|t| (started + t, t));
    let mut stdin = child.stdin.take().map(nonblocking).transpose()?;
    let mut stdout = Pipe::new(child.stdout.take().map(nonblocking).transpose()?, limits.max_output);
    let (cap, keep) = match limits.stderr {
        Stderr::Capture(n) => (n, true),
        _ => (0, false),
    };
    let mut stderr = Pipe::new(child.stderr.take().map(nonblocking).transpose()?, cap);
    let mut written = 0;
    loop {
        let mut busy = false;
        if let Some(pipe) = stdin.as_mut() {
            match feed(pipe, &input[written..]) {
                Ok(n) => {
                    written += n;
                    busy |= n > 0;
                }
                // It does not read all its input (it may have exited already): fine.
                Err(_) => written = input.len(),
            }
            if written == input.len() {
                stdin = None; // closed: the program sees end of file
            }
        }
        busy |= stdout.drain()?;
        busy |= stderr.drain()?;
        if stdout.over() {
            return Err(RunError::TooMuchOutput(limits.max_output));
        }
        if let Some(status) = child.try_wait().map_err(RunError::Io)? {
            // What it wrote is in the pipes; a background process it left may
            // hold them open, so read until they are empty, not until end of file.
            let grace = Instant::now() + GRACE;
            while stdout.drain()? | stderr.drain()? && !stdout.over() && Instant::now() < grace {}
            if stdout.over() {
                return Err(RunError::TooMuchOutput(limits.max_output));
            }
            let stderr = if keep { stderr.into_data() } else { Vec::new() };
            return Ok((Some(status), stdout.into_data(), stderr));
        }
        if let Some((at, timeout)) = deadline {
            if Instant::now() >= at {
                return Err(RunError::TimedOut(timeout));
            }
        }
        if !busy {
            std::thread::sleep(IDLE);
        }
    }
}

fn nonblocking<F: AsFd>(f: F) -> Result<F, RunError> {
    let flags = rustix::fs::fcntl_getfl(&f).map_err(|e| RunError::Io(e.into()))?;
    rustix::fs::fcntl_setfl(&f, flags | rustix::fs::OFlags::NONBLOCK).map_err(|e| RunError::Io(e.into()))?;
    Ok(f)
}

/// Write what the pipe takes now; an error when the program closed its stdin.
fn feed(pipe: &mut ChildStdin, rest: &[u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < rest.len() {
        match pipe.write(&rest[n..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// One output pipe, read without blocking into at most `cap` bytes (one more
/// byte marks "over").
struct Pipe<R> {
    reader: Option<R>,
    data: Vec<u8>,
    cap: usize,
    over: bool,
}

impl<R: Read> Pipe<R> {
    fn new(reader: Option<R>, cap: usize) -> Self {
        Pipe {
            reader,
            data: Vec::new(),
            cap,
            over: false,
        }
    }

    /// Read what is there now; whether anything was read.
    fn drain(&mut self) -> Result<bool, RunError> {
        let Some(reader) = self.reader.as_mut() else {
            return Ok(false);
        };
        let mut buf = [0u8; 16 * 1024];
        let mut any = false;
        loop {
            match reader.read(&mut buf) {
                Ok(0) => {
                    self.reader = None; // end of file
                    return Ok(any);
                }
                Ok(n) => {
                    any = true;
                    let room = self.cap - self.data.len();
                    self.data.extend_from_slice(&buf[..n.min(room)]);
                    if n > room {
                        self.over = true;
                        return Ok(true);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(any),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(RunError::Io(e)),
            }
        }
    }

    fn over(&self) -> bool {
        self.over
    }

    fn into_data(self) -> Vec<u8> {
        self.data
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(timeout_ms: u64, max_output: usize) -> Limits {
        Limits {
            timeout: Some(Duration::from_millis(timeout_ms)),
            max_output,
            stderr: Stderr::Capture(1024),
        }
    }

    fn sh(script: &str, stdin: &[u8], limits: &Limits) -> Result<Finished, RunError> {
        run("sh", ["-c", script], stdin, limits)
    }

    #[test]
    fn stdin_is_delivered_and_stdout_and_status_reported() {
        let input: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        // More input than a pipe holds, echoed back while it is still being fed.
        let f = sh("cat; echo err >&2; exit 3", &input, &limits(10_000, 1 << 20)).unwrap();
        assert_eq!(f.status.code(), Some(3));
        assert_eq!(f.stdout, input);
        assert_eq!(f.stderr, b"err\n");
        assert_eq!(f.status.code(), Some(3));
        let f = sh("printf ok", b"", &limits(10_000, 10)).unwrap();
        assert!(f.status.success());
        assert_eq!(f.stdout, b"ok");
    }

    #[test]
    fn a_program_that_does_not_read_its_input_is_fine() {
        let input = vec![b'x'; 1 << 20];
        let f = sh("echo done", &input, &limits(10_000, 100)).unwrap();
        assert!(f.status.success());
        assert_eq!(f.stdout, b"done\n");
    }

    #[test]
    fn the_timeout_stops_the_program() {
        let started = Instant::now();
        let e = sh("exec sleep 30", b"", &limits(300, 100)).unwrap_err();
        assert!(
            matches!(e, RunError::TimedOut(t) if t == Duration::from_millis(300)),
            "{e:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    }

    #[test]
    fn output_over_the_limit_is_refused() {
        let e = sh("head -c 5000 /dev/zero", b"", &limits(10_000, 4096)).unwrap_err();
        assert!(matches!(e, RunError::TooMuchOutput(4096)), "{e:?}");
        // Exactly the limit is fine.
        let f = sh("head -c 4096 /dev/zero", b"", &limits(10_000, 4096)).unwrap();
        assert_eq!(f.stdout.len(), 4096);
        // A program that never stops writing is stopped at the limit, not at the timeout.
        let started = Instant::now();
        let e = sh("exec cat /dev/zero", b"", &limits(20_000, 1 << 16)).unwrap_err();
        assert!(matches!(e, RunError::TooMuchOutput(_)), "{e:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_background_process_holding_stdout_does_not_delay_the_answer() {
        let started = Instant::now();
        // The background process keeps stdout and stderr open for 10 s.
        let f = sh("sleep 10 & echo answer", b"input", &limits(20_000, 100)).unwrap();
        let took = started.elapsed();
        assert_eq!(f.stdout, b"answer\n");
        assert!(f.status.success());
        assert!(took < Duration::from_secs(2), "took {took:?}");
        // Also when it keeps writing: the answer stops at the grace period.
        let started = Instant::now();
        let f = sh(
            "(while echo more; do sleep 0.01; done) & echo answer",
            b"",
            &limits(20_000, 1 << 20),
        )
        .unwrap();
        // (The background loop may write before the answer: both run at once.)
        assert!(
            f.stdout.windows(7).any(|w| w == b"answer\n"),
            "{:?}",
            String::from_utf8_lossy(&f.stdout)
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "took {:?}",
            started.elapsed()
        );
    }

    #[test]
    fn errors_say_what_happened() {
        let e = run("/nonexistent/imgsig-no-such-program", ["x"], b"", &limits(1000, 10)).unwrap_err();
        assert!(e.is_not_found(), "{e:?}");
        let e = sh("exec sleep 30", b"", &limits(1000, 10)).unwrap_err();
        assert_eq!(e.to_string(), "did not finish within 1 s; it was stopped");
    }
}
