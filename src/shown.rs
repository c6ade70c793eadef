//! The one way an attacker-influenced string reaches a person's terminal:
//! [`Shown`] writes it with control characters escaped.
//!
//! File names, URLs, registry answers, claim fields and user IDs can carry an
//! ESC (a terminal escape sequence that recolours, retitles or rewrites the
//! screen), a carriage return that overwrites the line ("ACCEPTED"), a
//! newline that forges a second message line, or a bidirectional override
//! that reorders what is shown. Every human message formats such a string
//! through [`Shown`] (or the [`shown`] shorthand); JSON output needs nothing,
//! serde escapes control characters itself.
//!
//! Escaped, as Rust's `escape_debug` writes them: every `char::is_control`
//! character (C0, DEL, C1) and every other character Rust does not consider
//! printable (format characters such as U+202E RIGHT-TO-LEFT OVERRIDE, line
//! and paragraph separators, unassigned code points). Bytes that are not
//! UTF-8 (in a path) are written as `\xNN`. Everything else, including
//! quotes, backslashes and non-ASCII letters, is written as is, so ordinary
//! paths look exactly as the user typed them.

use std::ffi::OsStr;
use std::fmt::{self, Display, Write};
use std::path::{Path, PathBuf};

/// A string, path or URL, displayed with control characters escaped (see the
/// module docs).
#[derive(Clone, Copy)]
pub struct Shown<'a>(Text<'a>);

#[derive(Clone, Copy)]
enum Text<'a> {
    Str(&'a str),
    Bytes(&'a [u8]),
}

/// Something [`Shown`] can display.
pub trait AsShown {
    fn as_shown(&self) -> Shown<'_>;
}

impl AsShown for str {
    fn as_shown(&self) -> Shown<'_> {
        Shown(Text::Str(self))
    }
}
impl AsShown for String {
    fn as_shown(&self) -> Shown<'_> {
        Shown(Text::Str(self))
    }
}
impl AsShown for OsStr {
    fn as_shown(&self) -> Shown<'_> {
        #[cfg(unix)]
        {
            Shown(Text::Bytes(std::os::unix::ffi::OsStrExt::as_bytes(self)))
        }
        #[cfg(not(unix))]
        match self.to_str() {
            Some(s) => Shown(Text::Str(s)),
            None => Shown(Text::Str("\u{FFFD}")),
        }
    }
}
impl AsShown for Path {
    fn as_shown(&self) -> Shown<'_> {
        self.as_os_str().as_shown()
    }
}
impl AsShown for PathBuf {
    fn as_shown(&self) -> Shown<'_> {
        self.as_os_str().as_shown()
    }
}

/// `value`, for a human message: `format!("{}", shown(path))`.
pub fn shown<T: AsShown + ?Sized>(value: &T) -> Shown<'_> {
    value.as_shown()
}

/// `value` as an escaped `String` (for messages built as strings).
pub fn escaped<T: AsShown + ?Sized>(value: &T) -> String {
    value.as_shown().to_string()
}

/// A message of several lines for people, displayed with every control character but the
/// line breaks escaped: the safety net where a whole message (an error chain, a report) is
/// printed, so an attacker-influenced string that reached it unescaped still cannot put an
/// ESC or a carriage return on the terminal. (A newline inside such a string can still start
/// a line: format the string itself with [`Shown`] where it is built.)
#[derive(Clone, Copy)]
pub struct Lines<'a>(pub &'a str);

impl Display for Lines<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0
            .chars()
            .try_for_each(|c| if c == '\n' { f.write_char(c) } else { write_char(f, c) })
    }
}

fn write_char(f: &mut fmt::Formatter<'_>, c: char) -> fmt::Result {
    // Quotes and backslashes are printable: keep them as they are.
    if matches!(c, '"' | '\'' | '\\') {
        return f.write_char(c);
    }
    let mut esc = c.escape_debug();
    if esc.len() == 1 {
        f.write_char(c)
    } else {
        esc.try_for_each(|e| f.write_char(e))
    }
}

impl Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Text::Str(s) => s.chars().try_for_each(|c| write_char(f, c)),
            Text::Bytes(mut b) => loop {
                match std::str::from_utf8(b) {
                    Ok(s) => return s.chars().try_for_each(|c| write_char(f, c)),
                    Err(e) => {
                        let (good, bad) = b.split_at(e.valid_up_to());
                        let good = std::str::from_utf8(good).expect("valid up to here");
                        good.chars().try_for_each(|c| write_char(f, c))?;
                        let n = e.error_len().unwrap_or(bad.len());
                        for byte in &bad[..n] {
                            write!(f, "\\x{byte:02x}")?;
                        }
                        b = &bad[n..];
                    }
                }
            },
        }
    }
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(escaped("sig\x1b[31mname"), "sig\\u{1b}[31mname");
        assert_eq!(
            escaped("a\rACCEPTED\nb\tc\u{7f}\u{9b}"),
            "a\\rACCEPTED\\nb\\tc\\u{7f}\\u{9b}"
        );
        assert_eq!(escaped("evil\u{202e}gpj.sig"), "evil\\u{202e}gpj.sig");
        assert_eq!(escaped("/srv/sigs/My \"dir\"/ü\\x"), "/srv/sigs/My \"dir\"/ü\\x");
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            let p = Path::new(OsStr::from_bytes(b"a\xff\x1bb\xc3"));
            assert_eq!(escaped(p), "a\\xff\\u{1b}b\\xc3");
        }
        assert_eq!(format!("{:?}", shown("x\ny")), "\"x\\ny\"");
        assert_eq!(Lines("a\x1b]0;t\x07\nb\r").to_string(), "a\\u{1b}]0;t\\u{7}\nb\\r");
    }
}
