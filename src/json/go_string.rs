//! Writing JSON strings exactly as Go's `json.Marshal` does
//! ([`write_go_string`]), for byte-identical claims, and matching object keys to
//! fields as Go's `encoding/json` does ([`go_fold`]).

/// Appends `s` as a JSON string exactly as Go's `json.Marshal` writes it
/// (Go ≥ 1.22): `"` `\` and `\b \f \n \r \t` as two-character escapes, other
/// controls and `<` `>` `&` U+2028 U+2029 as lowercase `\u00xx`/`\u20xx`,
/// everything else (including DEL and non-ASCII) verbatim.
pub fn write_go_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0'..='\u{1f}' | '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            _ => out.push(c),
        }
    }
    out.push('"');
}

/// Go `encoding/json`'s case-insensitive field-name key (how it matches an object's
/// key to a struct field): each rune mapped through `ToUpper(ToLower(r))`.
pub fn go_fold(s: &str) -> String {
    fn single(mut it: impl Iterator<Item = char>) -> Option<char> {
        let c = it.next()?;
        it.next().is_none().then_some(c)
    }
    s.chars()
        .map(|c| {
            let lower = single(c.to_lowercase()).unwrap_or(c);
            single(lower.to_uppercase()).unwrap_or(lower)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_string_escaping() {
        let mut out = String::new();
        write_go_string(
            &mut out,
            "<a href=\"x\">&\u{2028}\u{2029}\\\u{8}\u{c}\n\r\t\u{1}\u{1f}\u{7f}é😀/",
        );
        assert_eq!(
            out,
            r#""\u003ca href=\"x\"\u003e\u0026\u2028\u2029\\\b\f\n\r\t\u0001\u001f"#.to_owned() + "\u{7f}é😀/\""
        );
    }
}
