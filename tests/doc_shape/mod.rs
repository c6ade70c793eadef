//! Checks a verify document against the field tables of docs/json-output.md:
//! every documented field is there (fields are never omitted), no field is
//! there that the docs do not list, and each value has the documented type.
//! Object fields are followed through the `[… object](#…-object)` link in
//! their row's meaning, so the docs alone say what is nested where.

#![allow(dead_code)]

use std::collections::BTreeMap;

use serde_json::Value;

/// One table row: the type text (`string or null`, `array of objects`, …) and
/// the anchor of the object table its meaning links to, if any.
#[derive(Debug, Clone)]
pub struct Field {
    pub ty: String,
    pub link: Option<String>,
}

/// The field tables of the docs, by the anchor of their `###` heading.
pub struct Tables(pub BTreeMap<String, BTreeMap<String, Field>>);

fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            'a'..='z' | '0'..='9' | '-' | '_' => Some(c),
            ' ' => Some('-'),
            _ => None,
        })
        .collect()
}

impl Tables {
    pub fn parse(markdown: &str) -> Tables {
        let mut out: BTreeMap<String, BTreeMap<String, Field>> = BTreeMap::new();
        let mut current: Option<String> = None;
        for line in markdown.lines() {
            if let Some(h) = line.strip_prefix("### ") {
                current = Some(anchor(h));
                continue;
            }
            if line.starts_with("## ") {
                current = None;
                continue;
            }
            let Some(table) = &current else { continue };
            let cells: Vec<&str> = line.split(" | ").collect();
            if !line.starts_with("| `") || cells.len() < 3 {
                continue;
            }
            let name = cells[0].trim_start_matches("| ").trim_matches('`');
            if name.contains('`') || name.contains(',') {
                continue;
            }
            let meaning = cells[2..].join(" | ");
            let link = meaning.split("](#").nth(1).and_then(|rest| {
                let a = rest.split(')').next()?;
                a.ends_with("-object").then(|| a.to_owned())
            });
            out.entry(table.clone()).or_default().insert(
                name.to_owned(),
                Field {
                    ty: cells[1].trim().to_owned(),
                    link,
                },
            );
        }
        Tables(out)
    }

    pub fn from_docs() -> Tables {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/json-output.md");
        Tables::parse(&std::fs::read_to_string(path).unwrap())
    }

    pub fn table(&self, anchor: &str) -> &BTreeMap<String, Field> {
        self.0
            .get(anchor)
            .unwrap_or_else(|| panic!("docs/json-output.md has no table under a heading for #{anchor}"))
    }

    /// Every way `value` differs from the table `anchor`, as `path: problem`.
    pub fn problems(&self, anchor: &str, value: &Value) -> Vec<String> {
        let mut out = Vec::new();
        self.check(anchor, value, "$", &mut out);
        out
    }

    /// Panics with every difference, naming the document.
    #[track_caller]
    pub fn assert_matches(&self, anchor: &str, value: &Value, what: &str) {
        let p = self.problems(anchor, value);
        assert!(
            p.is_empty(),
            "{what}: not the documented #{anchor}:\n  {}\n{value:#}",
            p.join("\n  ")
        );
    }

    fn check(&self, anchor: &str, value: &Value, path: &str, out: &mut Vec<String>) {
        let table = self.table(anchor);
        let Some(obj) = value.as_object() else {
            out.push(format!("{path}: not an object (#{anchor})"));
            return;
        };
        for k in obj.keys() {
            if !table.contains_key(k) {
                out.push(format!("{path}.{k}: not documented in #{anchor}"));
            }
        }
        for (name, field) in table {
            let p = format!("{path}.{name}");
            match obj.get(name) {
                None => out.push(format!("{p}: missing (documented as {})", field.ty)),
                Some(v) => self.check_type(field, v, &p, out),
            }
        }
    }

    fn check_type(&self, field: &Field, v: &Value, path: &str, out: &mut Vec<String>) {
        let (base, nullable) = match field.ty.strip_suffix(" or null") {
            Some(b) => (b, true),
            None => (field.ty.as_str(), false),
        };
        if v.is_null() {
            if !nullable {
                out.push(format!("{path}: null, documented as {}", field.ty));
            }
            return;
        }
        let object = |v: &Value, p: &str, out: &mut Vec<String>| match &field.link {
            Some(a) => self.check(a, v, p, out),
            None if v.is_object() => {}
            None => out.push(format!("{p}: not an object")),
        };
        match base {
            "integer" if v.is_i64() || v.is_u64() => {}
            "string" if v.is_string() => {}
            "boolean" if v.is_boolean() => {}
            "object" if v.is_object() => object(v, path, out),
            "array of strings" if v.as_array().is_some_and(|a| a.iter().all(Value::is_string)) => {}
            "array of objects" if v.is_array() => {
                for (i, item) in v.as_array().unwrap().iter().enumerate() {
                    object(item, &format!("{path}[{i}]"), out);
                }
            }
            _ => out.push(format!("{path}: {v} is not {}", field.ty)),
        }
    }
}

/// Checks what `verify --output json` wrote: one image document, or JSON Lines
/// of image documents and a summary. Returns the image documents.
#[track_caller]
pub fn assert_verify_output(tables: &Tables, stdout: &str, many: bool, what: &str) -> Vec<Value> {
    let docs: Vec<Value> = if many {
        stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{what}: not a JSON line ({e}): {l}")))
            .collect()
    } else {
        vec![serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{what}: not one JSON document ({e}): {stdout}"))]
    };
    let mut images = docs;
    if many {
        let summary = images.pop().unwrap_or_else(|| panic!("{what}: no output"));
        tables.assert_matches("summary-document", &summary, what);
        assert_eq!(summary["summary"], true, "{what}: the last line is the summary");
        assert_eq!(summary["images"], images.len(), "{what}");
    }
    for (i, d) in images.iter().enumerate() {
        tables.assert_matches("image-document", d, what);
        assert_eq!(d["schema_version"], 3, "{what}");
        assert_eq!(d["summary"], false, "{what}");
        assert_eq!(d["index"], i + 1, "{what}");
    }
    images
}
