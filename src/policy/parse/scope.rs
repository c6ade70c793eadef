//! Scope keys under `transports.<name>`, validated as each c/image transport's
//! `ValidatePolicyConfigurationScope` does (Unix behaviour; go.podman.io/image
//! v5 as of 2025). The `""` scope is always allowed and never gets here.
//!
//! | transport | rule |
//! |---|---|
//! | `docker` | anything |
//! | `atomic` | `^[^/]*(/[^:/]*(/[^:/]*(:[^:/]*)?)?)?$` |
//! | `dir`, `oci`, `oci-archive`, `sif` | absolute, not `/`, unchanged by Go's `filepath.Clean` (oci: `:tag` too) |
//! | `docker-archive`, `tarball` | none (only `""`) |
//! | `docker-daemon` | anything that is not a valid `algo:hex` digest |
//! | `containers-storage` | `[root]` or `[driver@root]` (absolute root), then nothing or `name[@digest-or-ID][@ID]` |
//! | anything else (`ostree` stub, unknown names) | anything |

use crate::digest::Digest;

/// `Ok` if `scope` (not `""`) is acceptable under `transport`, else why not.
pub(super) fn validate(transport: &str, scope: &str) -> Result<(), String> {
    match transport {
        "atomic" => atomic(scope),
        "dir" | "oci" | "oci-archive" | "sif" => absolute_clean_path(scope),
        "docker-archive" | "tarball" => Err(format!(
            "the {transport} transport supports no scope except the default \"\""
        )),
        "docker-daemon" => match Digest::parse(scope) {
            Ok(_) => Err("an algo:digest image ID cannot be used as a namespace".to_owned()),
            Err(_) => Ok(()),
        },
        "containers-storage" => containers_storage(scope),
        _ => Ok(()),
    }
}

/// OpenShift `hostname[:port][/namespace[/imagestream[:tag]]]`.
fn atomic(scope: &str) -> Result<(), String> {
    let parts: Vec<&str> = scope.split('/').collect();
    let ok = parts.len() <= 3
        && parts.get(1).is_none_or(|ns| !ns.contains(':'))
        && parts.get(2).is_none_or(|stream| stream.matches(':').count() <= 1);
    if ok {
        Ok(())
    } else {
        Err("expected hostname[:port][/namespace[/imagestream[:tag]]]".to_owned())
    }
}

fn absolute_clean_path(scope: &str) -> Result<(), String> {
    if !scope.starts_with('/') {
        return Err("must be an absolute path".to_owned());
    }
    if scope == "/" {
        return Err("\"/\" is not allowed; use the transport's default scope \"\"".to_owned());
    }
    let cleaned = go_clean(scope);
    if cleaned != scope {
        return Err(format!("not in canonical form; write {cleaned:?}"));
    }
    Ok(())
}

fn containers_storage(scope: &str) -> Result<(), String> {
    const FORM: &str = "expected [graphroot] or [driver@graphroot], optionally followed by name[:tag][@digest][@ID]";
    let Some(rest) = scope.strip_prefix('[') else {
        return Err(FORM.to_owned());
    };
    let Some((store, rest)) = rest.split_once(']') else {
        return Err(FORM.to_owned());
    };
    let root = match store.split_once('@') {
        Some((driver, root)) if !driver.is_empty() && !root.is_empty() => root,
        None if !store.is_empty() => store,
        _ => return Err(FORM.to_owned()),
    };
    if !root.starts_with('/') {
        return Err(format!("the graph root {root:?} is not an absolute path"));
    }
    if rest.is_empty() {
        return Ok(());
    }
    let fields: Vec<&str> = rest.splitn(3, '@').collect();
    let is_id = |s: &str| Digest::parse(&format!("sha256:{s}")).is_ok();
    match fields[..] {
        [_] => Ok(()),
        [_, id_or_digest] if is_id(id_or_digest) || Digest::parse(id_or_digest).is_ok() => Ok(()),
        [_, bad] => Err(format!("{bad:?} is neither a valid digest nor a valid image ID")),
        [_, digest, id] => match (Digest::parse(digest), is_id(id)) {
            (Ok(_), true) => Ok(()),
            (Err(e), _) => Err(e.to_string()),
            (Ok(_), false) => Err(format!("{id:?} is not a valid image ID (64 lowercase hex digits)")),
        },
        _ => Err(FORM.to_owned()),
    }
}

/// Go's `path/filepath.Clean` on Unix: one `/` between elements, no `.`
/// elements, `..` resolved lexically (and dropped at the root), no trailing
/// `/`; `""` → `"."`.
fn go_clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for element in path.split('/') {
        match element {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            e => parts.push(e),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn go_clean_matches_go() {
        for (input, want) in [
            ("", "."),
            (".", "."),
            ("/", "/"),
            ("//", "/"),
            ("/a/b", "/a/b"),
            ("/a//b/", "/a/b"),
            ("/a/./b", "/a/b"),
            ("/a/b/..", "/a"),
            ("/..", "/"),
            ("/../a", "/a"),
            ("a/../..", ".."),
            ("../../a", "../../a"),
            ("a/b/../../c", "c"),
            ("abc/./../def", "def"),
        ] {
            assert_eq!(go_clean(input), want, "{input:?}");
        }
    }

    #[test]
    fn path_transports_want_absolute_clean_paths() {
        for t in ["dir", "oci", "oci-archive", "sif"] {
            for ok in ["/etc/passwd", "/this/does/not/exist", "/a:tag", "/x"] {
                assert_eq!(validate(t, ok), Ok(()), "{t} {ok}");
            }
            for bad in [
                "relative/path",
                "/double//slashes",
                "/has/./dot",
                "/has/dot/../dot",
                "/trailing/slash/",
                "/",
            ] {
                assert!(validate(t, bad).is_err(), "{t} {bad}");
            }
        }
        assert_eq!(
            validate("dir", "/a/").unwrap_err(),
            "not in canonical form; write \"/a\""
        );
    }

    #[test]
    fn atomic_scopes() {
        for ok in [
            "host",
            "*.example.com",
            "host:5000/ns",
            "host:5000/ns/stream",
            "host/ns/stream:tag",
            "",
            "/ns",
        ] {
            assert_eq!(validate("atomic", ok), Ok(()), "{ok}");
        }
        for bad in ["host/ns:x", "host/ns/stream:a:b", "host/ns/stream/extra", "a/b/c/d"] {
            assert!(validate("atomic", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scope_less_and_free_transports() {
        for t in ["docker-archive", "tarball"] {
            assert!(validate(t, "/anything").is_err());
        }
        for t in ["docker", "ostree", "unknown-transport", "containers-storage-x"] {
            assert_eq!(validate(t, "any thing // at all"), Ok(()));
        }
        assert_eq!(validate("docker-daemon", "docker.io/library/busybox"), Ok(()));
        assert_eq!(validate("docker-daemon", "sha256:short"), Ok(()));
        assert!(validate("docker-daemon", &format!("sha256:{HEX}")).is_err());
    }

    #[test]
    fn containers_storage_scopes() {
        for ok in [
            "[/var/lib/containers/storage]".to_owned(),
            "[overlay@/var/lib/containers/storage]".to_owned(),
            "[overlay@/var/lib/containers/storage+/run/containers]docker.io/library/busybox:latest".to_owned(),
            format!("[/root]busybox@{HEX}"),
            format!("[/root]busybox@sha256:{HEX}"),
            format!("[/root]busybox:latest@sha256:{HEX}@{HEX}"),
            "[/root]anything goes here".to_owned(),
        ] {
            assert_eq!(validate("containers-storage", &ok), Ok(()), "{ok}");
        }
        for bad in [
            "/var/lib".to_owned(),
            "[/root".to_owned(),
            "[]x".to_owned(),
            "[relative]".to_owned(),
            "[@/root]".to_owned(),
            "[overlay@]".to_owned(),
            "[overlay@relative]".to_owned(),
            "[/root]busybox@notanid".to_owned(),
            format!("[/root]busybox@sha256:{HEX}@notanid"),
            format!("[/root]busybox@md5:{HEX}@{HEX}"),
        ] {
            assert!(validate("containers-storage", &bad).is_err(), "{bad}");
        }
    }
}
