//! Progress on stderr for commands that work through many images (`fetch`,
//! `sign --from-file`, `verify` over a list or several `docker://` images).
//!
//! Shown only to a person watching: stderr is a terminal, `CI` is not set
//! (to anything but `false`/`0`), `TERM` is not `dumb`, and the output is
//! not `--output json`. Otherwise every method is a no-op (and
//! [`Progress::println`] a plain `eprintln!`), so no escape sequence ever
//! reaches a log or a pipe.
//!
//! Every text given here is escaped here ([`crate::shown`]): a list line or a
//! registry's answer carrying `ESC ]0;TITLE BEL` or `ESC [2J` is drawn as
//! `\u{1b}]0;TITLE\u{7}`, never sent to the terminal as it is, and no caller
//! has to remember it. (Escaping is idempotent: escaped text has no control
//! character left, so text a caller already escaped is drawn unchanged.)

use std::io::IsTerminal;
use std::sync::Mutex;

use crate::shown::{shown, Lines};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::OutputFormat;

pub struct Progress {
    on: bool,
    len: Option<usize>,
    /// Items done, for [`Progress::done`].
    done: std::sync::atomic::AtomicUsize,
    /// The bar while it is drawn; `None` after [`Progress::clear`].
    bar: Mutex<Option<ProgressBar>>,
}

/// Whether progress may be drawn, from the environment and stderr.
fn allowed(var: impl Fn(&str) -> Option<String>, stderr_is_terminal: bool, format: OutputFormat) -> bool {
    let ci = var("CI").is_some_and(|v| !matches!(v.as_str(), "" | "0" | "false"));
    let dumb = var("TERM").as_deref() == Some("dumb");
    stderr_is_terminal && format == OutputFormat::Human && !ci && !dumb
}

impl Progress {
    /// Progress over `len` items (`None` when the count is not known in advance,
    /// e.g. a list that is streamed).
    pub fn new(len: Option<usize>, format: OutputFormat) -> Progress {
        let on = allowed(|k| std::env::var(k).ok(), std::io::stderr().is_terminal(), format);
        Progress {
            on,
            len,
            done: Default::default(),
            bar: Mutex::new(None),
        }
    }

    fn with_bar(&self, f: impl FnOnce(&ProgressBar)) {
        if !self.on {
            return;
        }
        let mut guard = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        // One message is the whole line, so that each update draws once.
        let bar = guard.get_or_insert_with(|| {
            let style = ProgressStyle::with_template("{wide_msg}").unwrap_or_else(|_| ProgressStyle::default_bar());
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(style)
        });
        f(bar);
    }

    /// Working on item `pos` (from 1) of a sequential run: `[pos/len] message`,
    /// the message on one line with every control character escaped.
    pub fn start(&self, pos: usize, message: &str) {
        let of = self.len.map(|n| format!("/{n}")).unwrap_or_default();
        self.with_bar(|b| b.set_message(format!("[{pos}{of}] {}", shown(message))));
    }

    /// One more item done (a concurrent run counts finished items); the
    /// message is escaped as in [`Progress::start`].
    pub fn done(&self, message: &str) {
        let n = self.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        self.with_bar(|b| b.set_message(format!("[{n}] {}", shown(message))));
    }

    /// Print a message for people on stderr, above the bar when it is drawn,
    /// with every control character but its line breaks escaped ([`Lines`]).
    pub fn println(&self, line: &str) {
        let line = Lines(line).to_string();
        match self.bar.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            Some(b) => b.println(line),
            None => eprintln!("{line}"),
        }
    }

    /// Run `f`, which writes to stderr, with the bar out of the way.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match self.bar.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            Some(b) => b.suspend(f),
            None => f(),
        }
    }

    /// Erase the bar (before other output); the next [`Progress::start`] draws it again.
    pub fn clear(&self) {
        if let Some(b) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            b.finish_and_clear();
        }
    }

    /// Whether the bar may be drawn at all.
    pub fn is_on(&self) -> bool {
        self.on
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn only_for_a_person_at_a_terminal() {
        let human = OutputFormat::Human;
        assert!(allowed(env(&[("TERM", "xterm")]), true, human));
        assert!(!allowed(env(&[("TERM", "xterm")]), false, human));
        assert!(!allowed(env(&[("TERM", "xterm")]), true, OutputFormat::Json));
        assert!(!allowed(env(&[("TERM", "dumb")]), true, human));
        assert!(!allowed(env(&[("CI", "true")]), true, human));
        assert!(!allowed(env(&[("CI", "1")]), true, human));
        assert!(allowed(env(&[("CI", "false")]), true, human));
        assert!(allowed(env(&[("CI", "")]), true, human));
    }
}
