//! auth.json parsing with Go `encoding/json` semantics (see the parent module's docs).

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Unexpected, Visitor};

use super::AuthError;
use crate::json::go_fold;

/// One `auths` value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Entry {
    pub(super) auth: String,
    pub(super) identity_token: String,
}

/// A parsed file. `auths` keeps file order (first occurrence) for the normalised-key scan and the
/// last value of a repeated key, like a Go map.
#[derive(Debug, Default)]
pub(super) struct Contents {
    pub(super) auths: Vec<(String, Entry)>,
    index: HashMap<String, usize>,
    pub(super) cred_helpers: HashMap<String, String>,
    pub(super) creds_store: Option<String>,
}

impl Contents {
    pub(super) fn get(&self, key: &str) -> Option<&Entry> {
        self.index.get(key).map(|&i| &self.auths[i].1)
    }

    fn insert(&mut self, key: String, entry: Entry) {
        match self.index.get(&key) {
            Some(&i) => self.auths[i].1 = entry,
            None => {
                self.index.insert(key.clone(), self.auths.len());
                self.auths.push((key, entry));
            }
        }
    }

    fn clear_auths(&mut self) {
        self.auths.clear();
        self.index.clear();
    }
}

pub(super) fn parse_contents(path: &Path, legacy: bool, bytes: &[u8]) -> Result<Contents, AuthError> {
    let mut contents = Contents::default();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let res = if legacy {
        de.deserialize_any(AuthsVisitor(&mut contents))
    } else {
        de.deserialize_any(TopVisitor(&mut contents))
    };
    res.and_then(|()| de.end()).map_err(|source| AuthError::Parse {
        path: path.to_owned(),
        format: if legacy { "legacy .dockercfg" } else { "auth.json" },
        source: super::JsonSyntax(source.to_string()),
    })?;
    Ok(contents)
}

/// Reject strings without echoing them: a misplaced `auth` value must not reach an error message.
fn no_string<E: de::Error>(exp: &dyn de::Expected) -> E {
    E::invalid_type(Unexpected::Other("a string"), exp)
}

/// `{"auths": …, "credHelpers": …}`; `null` is no-op.
struct TopVisitor<'a>(&'a mut Contents);

impl<'de> Visitor<'de> for TopVisitor<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object with \"auths\" and \"credHelpers\"")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(no_string(&self))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match go_fold(&key).as_str() {
                "AUTHS" => map.next_value_seed(Seed(AuthsVisitor(&mut *self.0)))?,
                "CREDHELPERS" => map.next_value_seed(Seed(HelpersVisitor(&mut self.0.cred_helpers)))?,
                "CREDSSTORE" => {
                    if let Some(store) = map.next_value::<Option<String>>()? {
                        self.0.creds_store = Some(store);
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// Deserialize a value with a stateful visitor.
struct Seed<V>(V);

impl<'de, V: Visitor<'de, Value = ()>> DeserializeSeed<'de> for Seed<V> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self.0)
    }
}

/// The `auths` map (the whole legacy file). `null` empties it, as Go sets the map to nil; a
/// repeated `auths` object adds to it, as Go reuses the map.
struct AuthsVisitor<'a>(&'a mut Contents);

impl<'de> Visitor<'de> for AuthsVisitor<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object mapping registries to {\"auth\": …}")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.clear_auths();
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(no_string(&self))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            let mut entry = Entry::default();
            map.next_value_seed(Seed(EntryVisitor(&mut entry)))?;
            self.0.insert(key, entry);
        }
        Ok(())
    }
}

/// `{"auth": "…", "identitytoken": "…"}`; `null` (entry or field) leaves the zero value.
struct EntryVisitor<'a>(&'a mut Entry);

impl<'de> Visitor<'de> for EntryVisitor<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object with \"auth\" and \"identitytoken\"")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(no_string(&self))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            let field = match go_fold(&key).as_str() {
                "AUTH" => &mut self.0.auth,
                "IDENTITYTOKEN" => &mut self.0.identity_token,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            if let Some(v) = map.next_value::<Option<String>>()? {
                *field = v;
            }
        }
        Ok(())
    }
}

/// `credHelpers`: registry → helper suffix. `null` empties it; a `null` value counts as "".
struct HelpersVisitor<'a>(&'a mut HashMap<String, String>);

impl<'de> Visitor<'de> for HelpersVisitor<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object mapping registries to credential helper names")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.clear();
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(no_string(&self))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            let helper = map.next_value::<Option<String>>()?.unwrap_or_default();
            self.0.insert(key, helper);
        }
        Ok(())
    }
}
