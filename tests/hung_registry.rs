//! `--timeout` bounds contacting a registry as a whole: with
//! `--tls-verify=false` imgsig tries HTTPS, then plain HTTP, and a registry
//! that hangs must cost the timeout once, not once per try (it took 6 s with
//! `--timeout 3`).
//!
//! The registry here is a hand-written TCP server on 127.0.0.1 that accepts
//! connections and never says a word: a real registry cannot be made to hang
//! on purpose, and neither can the lab's.

mod common;

use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use common::online::{cmd, go};
use common::{assert_exit, json, tempdir};

/// Accepts every connection and holds it open, silent, until the test ends.
fn hung_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("local address").to_string();
    std::thread::spawn(move || {
        let mut held: Vec<TcpStream> = Vec::new();
        for conn in listener.incoming().flatten() {
            held.push(conn);
        }
    });
    addr
}

const TIMEOUT: u64 = 3;
/// Start-up, the policy, the error document: far less than this.
const MARGIN: Duration = Duration::from_millis(1500);

#[test]
fn a_hung_insecure_registry_costs_the_timeout_once() {
    let dir = tempdir();
    let policy = dir.path().join("policy.json");
    std::fs::write(&policy, r#"{"default":[{"type":"insecureAcceptAnything"}]}"#).unwrap();
    let host = hung_server();
    let image = format!("docker://{host}/lab/app:1.0");
    let timeout = TIMEOUT.to_string();
    let mirror = dir.path().join("mirror");
    let runs: Vec<(&str, Vec<std::ffi::OsString>)> = vec![
        (
            "verify",
            vec![
                "verify".into(),
                "--policy".into(),
                policy.clone().into(),
                image.clone().into(),
            ],
        ),
        (
            "fetch",
            vec!["fetch".into(), "--to".into(), mirror.into(), image.clone().into()],
        ),
    ];
    std::thread::scope(|s| {
        for (what, args) in &runs {
            let timeout = &timeout;
            s.spawn(move || {
                let start = Instant::now();
                let o = go(cmd()
                    .args(args)
                    .args(["--json", "--tls-verify=false", "--timeout", timeout]));
                let took = start.elapsed();
                assert_exit(&o, 3);
                let doc = json(&o);
                let text = doc.to_string();
                assert!(text.contains("network-error"), "{what}: {doc:#}");
                assert!(text.contains("timed out"), "{what}: {doc:#}");
                assert!(
                    took < Duration::from_secs(TIMEOUT) + MARGIN,
                    "{what}: took {took:?} with --timeout {TIMEOUT}"
                );
            });
        }
    });
}
