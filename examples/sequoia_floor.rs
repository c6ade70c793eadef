//! Benchmark helper (not part of imgsig): bare sequoia verification of the
//! very signatures a mirror holds, the floor P2 is compared with.
//!
//!     cargo run --release --example sequoia_floor -- KEY.pub MIRROR
//!
//! Reads every `signature-1` under MIRROR into memory (no file reading is
//! timed), then verifies each once with sequoia's streaming `Verifier`
//! (`VerifierBuilder` + a helper returning the certificates that match the
//! issuer, then reading the content), as `benches/verify.rs` measures its
//! floor. The first half of the messages is verified on one thread, the
//! second half on every core, so no message is verified twice and sequoia's
//! process-wide verification cache is never hit. Prints
//! `floor1_rate=…` (signatures per second on one core) and
//! `floorall_rate=…` (on all cores), and fails if any signature is rejected.
//!
//! glibc's trim threshold is raised as imgsig raises it (src/main.rs), so
//! the floor is sequoia's own cost, not glibc's returning memory to the
//! kernel after every compressed message.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use sequoia_openpgp as openpgp;

#[path = "../benches/support/floor_helper.rs"]
mod floor_helper;
use floor_helper::FloorHelper;

use openpgp::parse::stream::VerifierBuilder;
use openpgp::parse::Parse;
use openpgp::policy::StandardPolicy;
use openpgp::Cert;

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read mirror directory") {
        let e = e.expect("directory entry");
        let p = e.path();
        if e.file_type().expect("file type").is_dir() {
            collect(&p, out);
        } else if p.file_name().is_some_and(|n| n == "signature-1") {
            out.push(p);
        }
    }
}

/// Verify every message in `msgs`; the number rejected.
fn verify_all(msgs: &[Vec<u8>], certs: &[Cert], policy: &StandardPolicy, now: SystemTime) -> usize {
    let mut bad = 0;
    for m in msgs {
        let ok = VerifierBuilder::from_bytes(m)
            .and_then(|b| b.with_policy(policy, now, FloorHelper { certs }))
            .and_then(|mut v| {
                let mut content = Vec::new();
                v.read_to_end(&mut content)?;
                Ok(())
            });
        bad += usize::from(ok.is_err());
    }
    bad
}

fn main() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: only malloc's tuning, first thing in main, before any thread exists.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
    }
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: sequoia_floor KEY.pub MIRROR");
        std::process::exit(2);
    }
    let cert = Cert::from_file(&args[1]).expect("public key");
    let mut paths = Vec::new();
    collect(Path::new(&args[2]), &mut paths);
    let msgs: Vec<Vec<u8>> = paths.iter().map(|p| std::fs::read(p).expect("signature")).collect();
    assert!(msgs.len() >= 4, "too few signatures under {}", args[2]);
    let certs = [cert];
    let policy = StandardPolicy::new();
    let now = SystemTime::now();
    let (one, rest) = msgs.split_at(msgs.len() / 2);

    let start = Instant::now();
    let bad1 = verify_all(one, &certs, &policy, now);
    let one_secs = start.elapsed().as_secs_f64();

    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let chunk = rest.len().div_ceil(cores);
    let start = Instant::now();
    let bad_all: usize = std::thread::scope(|s| {
        let handles: Vec<_> = rest
            .chunks(chunk)
            .map(|c| s.spawn(|| verify_all(c, &certs, &policy, now)))
            .collect();
        handles.into_iter().map(|h| h.join().expect("worker")).sum()
    });
    let all_secs = start.elapsed().as_secs_f64();
    if bad1 + bad_all > 0 {
        eprintln!(
            "sequoia_floor: {} of {} signatures rejected",
            bad1 + bad_all,
            msgs.len()
        );
        std::process::exit(1);
    }
    println!("floor1_rate={:.0}", one.len() as f64 / one_secs);
    println!("floorall_rate={:.0}", rest.len() as f64 / all_secs);
    println!("floor_cores={cores}");
}
