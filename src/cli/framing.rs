//! The one framing of `--output json` for commands over images (verify,
//! sign, fetch; docs/json-output.md, "Framing"): one image named → that
//! image's document, pretty-printed, nothing else; several → JSON Lines, one
//! compact document per image as it is done, then one summary line of the
//! same shape for every command ([`Summary`]).

use std::io::Write;

use serde::Serialize;

use super::{Exit, OutputFormat};

/// How a run over images writes its documents.
#[derive(Debug, Clone, Copy)]
pub struct Framing {
    json: bool,
    many: bool,
}

impl Framing {
    /// `many`: more than one image was named.
    pub fn new(format: OutputFormat, many: bool) -> Framing {
        Framing {
            json: format == OutputFormat::Json,
            many,
        }
    }

    /// An image's document as it goes to stdout (ends with a newline), or
    /// `None` without `--output json`.
    pub fn image_text<T: Serialize>(&self, doc: &T) -> Option<String> {
        if !self.json {
            return None;
        }
        let text = if self.many {
            serde_json::to_string(doc)
        } else {
            serde_json::to_string_pretty(doc)
        };
        Some(text.unwrap_or_default() + "\n")
    }

    /// Write an image's document to stdout now (a closed pipe is ignored:
    /// the exit code still reflects the outcome).
    pub fn image<T: Serialize>(&self, doc: &T) {
        if let Some(text) = self.image_text(doc) {
            let _ = super::io::write_stdout(text.as_bytes());
        }
    }

    /// Write the summary line after the images' documents: only when several
    /// images were named (one image's document is the whole output).
    pub fn summary<T: Serialize>(&self, summary: &Summary<T>) {
        if self.json && self.many {
            let text = serde_json::to_string(summary).unwrap_or_default();
            let _ = writeln!(std::io::stdout().lock(), "{text}");
        }
    }
}

/// The last line of a multi-image run, the same for every command: how
/// many images, how many could not be done, the worst exit code, and the
/// command's own counts (`counts`, flattened into the same object).
#[derive(Debug, Serialize)]
pub struct Summary<T: Serialize> {
    pub schema_version: u32,
    pub command: &'static str,
    /// Always `true` (image documents have `false`).
    pub summary: bool,
    pub exit_code: u8,
    pub images: usize,
    /// Images that could not be verified, signed or fetched (exit 2 or 3 for
    /// verify, any error for sign and fetch).
    pub failed: usize,
    #[serde(flatten)]
    pub counts: T,
}

impl<T: Serialize> Summary<T> {
    pub fn new(command: &'static str, exit: Exit, images: usize, failed: usize, counts: T) -> Summary<T> {
        Summary {
            schema_version: super::output::schema_version(command),
            command,
            summary: true,
            exit_code: exit as u8,
            images,
            failed,
            counts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_image_is_one_pretty_document_several_are_lines() {
        let doc = serde_json::json!({"summary": false, "index": 1});
        let one = Framing::new(OutputFormat::Json, false).image_text(&doc).unwrap();
        assert!(one.ends_with("}\n") && one.lines().count() > 1, "{one}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&one).unwrap(), doc);
        let line = Framing::new(OutputFormat::Json, true).image_text(&doc).unwrap();
        assert_eq!(line, "{\"summary\":false,\"index\":1}\n");
        assert_eq!(Framing::new(OutputFormat::Human, true).image_text(&doc), None);
    }

    #[test]
    fn summary_fields_are_shared_and_the_counts_flattened() {
        #[derive(Serialize)]
        struct Counts {
            signatures: usize,
        }
        let s = Summary::new("sign", Exit::Input, 3, 1, Counts { signatures: 2 });
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            serde_json::json!({"schema_version": 2, "command": "sign", "summary": true, "exit_code": 2,
                "images": 3, "failed": 1, "signatures": 2})
        );
    }
}
