//! Helpers of the tests that reach the lab's registry and mirrors (registry.rs, offline.rs).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::servers::run_bounded;
use super::{imgsig, stdout, Lab};

/// Most seconds any single command of these tests may take.
pub const CMD_SECS: u64 = 60;
/// A HOME etc. that does not exist: no ambient credentials, certs, registries.d or registries.conf.
pub const NOWHERE: &str = "/nonexistent/imgsig-online-test";

/// imgsig, isolated from the developer's auth files and configuration.
pub fn cmd() -> Command {
    let mut c = imgsig();
    isolate(&mut c);
    c
}

/// Keep `c` away from the developer's auth files and configuration.
pub fn isolate(c: &mut Command) {
    c.env_remove("REGISTRY_AUTH_FILE")
        .env_remove("DOCKER_CONFIG")
        .env_remove("CONTAINERS_REGISTRIES_CONF")
        .env("HOME", NOWHERE)
        .env("XDG_RUNTIME_DIR", NOWHERE)
        .env("XDG_CONFIG_HOME", NOWHERE);
}

/// Run with the deadline.
pub fn go(c: &mut Command) -> Output {
    run_bounded(c, CMD_SECS)
}

/// `--registries-d LAB --tls-verify=false` (the lab registry is plain HTTP).
pub fn lab_net(lab: &Lab) -> [String; 3] {
    [
        "--registries-d".into(),
        lab.var("LAB_REGISTRIES_D").into(),
        "--tls-verify=false".into(),
    ]
}

pub fn hex_of(digest: &str) -> &str {
    digest.strip_prefix("sha256:").expect("a sha256 digest")
}

/// `MIRROR/<repo>@sha256=<hex>` for `registry/repo:tag`.
pub fn image_dir(mirror: &Path, identity: &str, digest: &str) -> PathBuf {
    let repo = identity.split_once('/').unwrap().1.split(':').next().unwrap();
    mirror.join(format!("{repo}@sha256={}", hex_of(digest)))
}

/// stdout, line by line.
pub fn lines(o: &Output) -> Vec<String> {
    stdout(o).lines().map(str::to_owned).collect()
}
