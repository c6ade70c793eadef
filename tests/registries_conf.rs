//! containers-registries.conf(5): `insecure`, `blocked`, `location` and mirrors, read from
//! the files containers/image reads, checked against the peer lab's REAL plain-HTTP
//! docker-registry (images pushed and signed by skopeo), plus the parser's rules.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::servers::{closed_port, run_bounded};
use common::{assert_exit, imgsig, lab, stderr, stdout, tempdir, Lab};
use imgsig::reference::DockerReference;
use imgsig::registry::registries_conf::{ConfError, ConfPaths, RegistriesConf};

const NOWHERE: &str = "/nonexistent/imgsig-registries-conf-test";

fn write(p: &Path, text: &str) -> PathBuf {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
    p.to_owned()
}

/// imgsig with no ambient configuration but `env`.
fn cmd(env: &[(&str, &Path)]) -> Command {
    let mut c = imgsig();
    c.env_remove("REGISTRY_AUTH_FILE")
        .env_remove("DOCKER_CONFIG")
        .env_remove("CONTAINERS_REGISTRIES_CONF")
        .env("HOME", NOWHERE)
        .env("XDG_RUNTIME_DIR", NOWHERE)
        .env("XDG_CONFIG_HOME", NOWHERE);
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

/// `imgsig verify --json --registries-d LAB` of `image` with `policy`, no --tls-verify.
fn verify(lab: &Lab, env: &[(&str, &Path)], policy: &str, image: &str, extra: &[&str]) -> Output {
    run_bounded(
        cmd(env)
            .args(["verify", "--json", "--timeout", "20", "--policy", policy])
            .args(["--registries-d", lab.var("LAB_REGISTRIES_D")])
            .args(extra)
            .arg(format!("docker://{image}")),
        60,
    )
}

/// (verdict or error code, message, manifest digest) of the image's document (one image: the whole output).
fn outcome(o: &Output) -> (String, String, String) {
    let doc: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(o), stderr(o)));
    let s = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    (
        if doc["error"].is_null() {
            s(&doc["verdict"])
        } else {
            s(&doc["error"]["code"])
        },
        s(&doc["error"]["message"]),
        s(&doc["manifest_digest"]),
    )
}

#[test]
fn insecure_registries_are_reached_over_plain_http() {
    let lab = lab();
    let dir = tempdir();
    let reg = lab.var("LAB_REGISTRY");
    let alice = lab.var("LAB_POLICY_ALICE");
    let app = lab.var("LAB_IMG_APP1");

    // No registries.conf: HTTPS only, which the plain-HTTP registry cannot speak.
    let o = verify(lab, &[], alice, app, &[]);
    assert_exit(&o, 3);
    assert_eq!(outcome(&o).0, "network-error");

    // The lab's own registries.conf (insecure = true), named by CONTAINERS_REGISTRIES_CONF.
    let conf = lab.path("CONTAINERS_REGISTRIES_CONF");
    let env = [("CONTAINERS_REGISTRIES_CONF", conf.as_path())];
    let o = verify(lab, &env, alice, app, &[]);
    assert_exit(&o, 0);
    assert_eq!(outcome(&o).2, lab.var("LAB_IMG_APP1_DIGEST"));
    // An explicit --tls-verify=true overrides registries.conf, as in podman.
    let o = verify(lab, &env, alice, app, &["--tls-verify=true"]);
    assert_exit(&o, 3);
    assert_eq!(outcome(&o).0, "network-error");

    // The v1 format.
    let v1 = write(
        &dir.path().join("v1.conf"),
        &format!("[registries.insecure]\nregistries = [\"{reg}\"]\n"),
    );
    let o = verify(lab, &[("CONTAINERS_REGISTRIES_CONF", &v1)], alice, app, &[]);
    assert_exit(&o, 0);

    // $HOME/.config/containers/registries.conf (empty) and a drop-in beside it.
    let home = dir.path().join("home");
    write(&home.join(".config/containers/registries.conf"), "");
    let o = verify(lab, &[("HOME", &home)], alice, app, &[]);
    assert_exit(&o, 3);
    write(
        &home.join(".config/containers/registries.conf.d/50-lab.conf"),
        &format!("[[registry]]\nlocation = \"{reg}\"\ninsecure = true\n"),
    );
    let o = verify(lab, &[("HOME", &home)], alice, app, &[]);
    assert_exit(&o, 0);
    // A later drop-in replaces the entry with the same prefix.
    write(
        &home.join(".config/containers/registries.conf.d/60-lab.conf"),
        &format!("[[registry]]\nlocation = \"{reg}\"\ninsecure = false\n"),
    );
    let o = verify(lab, &[("HOME", &home)], alice, app, &[]);
    assert_exit(&o, 3);

    // blocked = true: refused before any request.
    let blocked = write(
        &dir.path().join("blocked.conf"),
        &format!("[[registry]]\nlocation = \"{reg}\"\ninsecure = true\nblocked = true\n"),
    );
    let o = verify(lab, &[("CONTAINERS_REGISTRIES_CONF", &blocked)], alice, app, &[]);
    assert_exit(&o, 2);
    let (code, msg, _) = outcome(&o);
    assert_eq!(code, "registry-blocked", "{msg}");
    assert!(msg.contains(&blocked.display().to_string()), "{msg}");

    // An unusable file: bad input, naming the file.
    let bad = write(
        &dir.path().join("bad.conf"),
        "[[registry]]\nlocation = \"http://x.example\"\n",
    );
    let o = verify(lab, &[("CONTAINERS_REGISTRIES_CONF", &bad)], alice, app, &[]);
    assert_exit(&o, 2);
    let (code, msg, _) = outcome(&o);
    assert_eq!(code, "invalid-registries-conf", "{msg}");
    assert!(msg.contains("bad.conf") && msg.contains("URI schemes"), "{msg}");
    // … and a named file that does not exist.
    let o = verify(
        lab,
        &[("CONTAINERS_REGISTRIES_CONF", &dir.path().join("none.conf"))],
        alice,
        app,
        &[],
    );
    assert_exit(&o, 2);
}

#[test]
fn location_and_mirrors_change_where_the_manifest_is_read() {
    let lab = lab();
    let dir = tempdir();
    let reg = lab.var("LAB_REGISTRY");
    let digest = lab.var("LAB_IMG_APP1_DIGEST");

    // prefix → location: the manifest and the signature come from the lab registry and its
    // lookaside (registries.d for the place read, as containers/image does); the policy
    // judges the name as given, so a remapIdentity accepts alice's signature.
    let alias = "imgsig-alias.example/lab";
    let conf = write(
        &dir.path().join("alias.conf"),
        &format!("[[registry]]\nprefix = \"{alias}\"\nlocation = \"{reg}/lab\"\ninsecure = true\n"),
    );
    let policy = write(
        &dir.path().join("remap.json"),
        &serde_json::json!({"default": [{"type": "signedBy", "keyType": "GPGKeys",
            "keyPath": lab.var("LAB_ALICE_PUB"),
            "signedIdentity": {"type": "remapIdentity", "prefix": alias, "signedPrefix": format!("{reg}/lab")}}]})
        .to_string(),
    );
    let env = [("CONTAINERS_REGISTRIES_CONF", conf.as_path())];
    let o = verify(lab, &env, policy.to_str().unwrap(), &format!("{alias}/app:1.0"), &[]);
    assert_exit(&o, 0);
    assert_eq!(outcome(&o).2, digest);
    // One image: one document, no summary line.
    assert!(!stdout(&o).contains("\"summary\": true"), "{}", stdout(&o));
    assert!(
        stdout(&o).contains(&format!("\"{alias}/app@{digest}\"")),
        "{}",
        stdout(&o)
    );

    // A registry nobody listens on, with the lab registry as its mirror.
    let dead = format!("127.0.0.1:{}", closed_port());
    let mirror_conf = |extra: &str| {
        write(
            &dir.path().join("mirror.conf"),
            &format!(
                "[[registry]]\nlocation = \"{dead}\"\ninsecure = true\n{extra}\n[[registry.mirror]]\nlocation = \"{reg}\"\ninsecure = true\n"
            ),
        )
    };
    let insecure_policy = lab.var("LAB_POLICY_INSECURE");
    let tagged = format!("{dead}/lab/app:1.0");
    let pinned = format!("{dead}/lab/app@{digest}");
    let conf = mirror_conf("");
    let env = [("CONTAINERS_REGISTRIES_CONF", conf.as_path())];
    let o = verify(lab, &env, insecure_policy, &tagged, &[]);
    assert_exit(&o, 0);
    assert_eq!(outcome(&o).2, digest);
    // Without the mirror the same image cannot be read.
    let o = verify(lab, &[], insecure_policy, &tagged, &["--tls-verify=false"]);
    assert_exit(&o, 3);

    // mirror-by-digest-only: a tag is read from the registry itself (which fails, and the
    // error is the registry's), a digest from the mirror.
    let conf = mirror_conf("mirror-by-digest-only = true");
    let env = [("CONTAINERS_REGISTRIES_CONF", conf.as_path())];
    let o = verify(lab, &env, insecure_policy, &tagged, &[]);
    assert_exit(&o, 3);
    let (code, msg, _) = outcome(&o);
    assert_eq!(code, "network-error", "{msg}");
    assert!(msg.contains(&dead) && !msg.contains("mirrors also failed"), "{msg}");
    let o = verify(lab, &env, insecure_policy, &pinned, &[]);
    assert_exit(&o, 0);

    // A mirror that fails too: both errors are named.
    let conf = write(
        &dir.path().join("two-dead.conf"),
        &format!(
            "[[registry]]\nlocation = \"{dead}\"\ninsecure = true\n[[registry.mirror]]\nlocation = \"{dead}/elsewhere\"\ninsecure = true\n"
        ),
    );
    let o = verify(
        lab,
        &[("CONTAINERS_REGISTRIES_CONF", &conf)],
        insecure_policy,
        &tagged,
        &[],
    );
    assert_exit(&o, 3);
    let msg = outcome(&o).1;
    assert!(
        msg.contains("mirrors also failed") && msg.contains(&format!("{dead}/elsewhere/lab/app:1.0")),
        "{msg}"
    );
}

// ---- the parser ---------------------------------------------------------------------------

fn parse(text: &str) -> Result<RegistriesConf, ConfError> {
    RegistriesConf::parse(Path::new("/test/registries.conf"), text, false)
}

fn sources(conf: &RegistriesConf, image: &str) -> Vec<(String, bool)> {
    conf.pull_sources(&DockerReference::parse_normalized(image).unwrap())
        .unwrap()
        .into_iter()
        .map(|s| (s.reference.to_string(), s.insecure))
        .collect()
}

#[test]
fn pull_sources_follow_containers_image() {
    let conf = parse(
        r#"
unqualified-search-registries = ["docker.io"]
[[registry]]
prefix = "example.com/foo"
location = "internal.example.com/bar/"
insecure = true
[[registry.mirror]]
location = "mirror-a.example.com"
pull-from-mirror = "digest-only"
[[registry.mirror]]
location = "mirror-b.example.com/ns"
insecure = true
pull-from-mirror = "tag-only"

[[registry]]
prefix = "*.wild.example"
location = ""
insecure = true

[[registry]]
location = "example.com"
"#,
    )
    .unwrap();
    assert_eq!(
        sources(&conf, "example.com/foo/app:1"),
        [
            ("mirror-b.example.com/ns/app:1".into(), true),
            ("internal.example.com/bar/app:1".into(), true)
        ]
    );
    let d = "sha256:0123456789012345678901234567890123456789012345678901234567890123";
    assert_eq!(
        sources(&conf, &format!("example.com/foo/app@{d}")),
        [
            (format!("mirror-a.example.com/app@{d}"), false),
            (format!("internal.example.com/bar/app@{d}"), true)
        ]
    );
    // The longest prefix wins; a prefix matches at a boundary only.
    assert_eq!(
        sources(&conf, "example.com/foobar:1"),
        [("example.com/foobar:1".into(), false)]
    );
    assert_eq!(
        sources(&conf, "a.wild.example/x:1"),
        [("a.wild.example/x:1".into(), true)]
    );
    assert_eq!(
        sources(&conf, "other.example/x:1"),
        [("other.example/x:1".into(), false)]
    );
}

#[test]
fn invalid_files_are_refused_naming_the_problem() {
    for (text, want) in [
        ("[[registry]]\nlocation = \"https://x.example\"\n", "URI schemes"),
        ("[[registry]]\ninsecure = true\n", "both location and prefix are unset"),
        ("[[registry]]\nprefix = \"x.example\"\n", "location is unset"),
        ("[[registry]]\nprefix = \"*.x.example/ns\"\nlocation = \"y\"\n", "wildcard prefix"),
        ("[[registry]]\nlocation = \"x\"\ninsecure = \"yes\"\n", "\"insecure\" must be true or false"),
        ("[[registry]]\nlocation = \"x\"\npull-from-mirror = \"all\"\n", "non-mirror"),
        ("[[registry]]\nlocation = \"x\"\n[[registry.mirror]]\ninsecure = true\n", "mirror location is unset"),
        (
            "[[registry]]\nlocation = \"x\"\n[[registry.mirror]]\nlocation = \"m\"\npull-from-mirror = \"some\"\n",
            "unsupported pull-from-mirror",
        ),
        (
            "[[registry]]\nlocation = \"x\"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = \"m\"\npull-from-mirror = \"all\"\n",
            "cannot both be set",
        ),
        (
            "[[registry]]\nprefix = \"a\"\nlocation = \"x\"\n[[registry]]\nprefix = \"b\"\nlocation = \"x\"\ninsecure = true\n",
            "conflicting \"insecure\"",
        ),
        (
            "[registries.insecure]\nregistries = [\"x\"]\n[[registry]]\nlocation = \"y\"\n",
            "mixing the v1 and v2",
        ),
        ("[[registry]\n", "not valid TOML"),
        ("registry = 5\n", "an array of tables"),
    ] {
        let e = parse(text).expect_err(text).to_string();
        assert!(e.contains(want) && e.contains("/test/registries.conf"), "{text}: {e}");
    }
    // Drop-ins must be v2; unknown keys are ignored.
    let v1 = "[registries.block]\nregistries = [\"x\"]\n";
    assert!(parse(v1).unwrap().registries[0].blocked);
    let e = RegistriesConf::parse(Path::new("/d.conf"), v1, true).unwrap_err();
    assert!(e.to_string().contains("v2 format"), "{e}");
    assert!(parse("short-name-mode = \"enforcing\"\n[aliases]\n\"x\" = \"docker.io/x\"\n").is_ok());
}

#[test]
fn file_locations_follow_containers_image() {
    let dir = tempdir();
    let home = dir.path();
    let p = ConfPaths::locate(None, Some(home));
    assert_eq!(p.file, PathBuf::from("/etc/containers/registries.conf"));
    assert_eq!(
        p.dirs,
        [
            PathBuf::from("/etc/containers/registries.conf.d"),
            home.join(".config/containers/registries.conf.d")
        ]
    );
    // A per-user file replaces the system file and the system drop-ins.
    write(&home.join(".config/containers/registries.conf"), "");
    let p = ConfPaths::locate(None, Some(home));
    assert_eq!(p.file, home.join(".config/containers/registries.conf"));
    assert_eq!(p.dirs, [home.join(".config/containers/registries.conf.d")]);
    // CONTAINERS_REGISTRIES_CONF beats both, and must exist.
    let p = ConfPaths::locate(Some(Path::new("/x/r.conf")), Some(home));
    assert!(p.explicit);
    assert_eq!(p.file, PathBuf::from("/x/r.conf"));
    assert_eq!(p.dirs.len(), 2);
    assert!(RegistriesConf::load(&p).is_err());
}
