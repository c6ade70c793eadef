//! Benchmark input generator (not part of imgsig): writes N images, each
//! with its own manifest and one distinct signature, into a mirror in the
//! lookaside layout, plus the list of pinned references.
//!
//!     cargo run --release --example gen_mirror -- KEYFILE OUTDIR N
//!
//! Signatures are distinct (different manifests, so different claims), so
//! sequoia's process-wide verification cache cannot make a benchmark fast.

use std::io::Write;
use std::path::PathBuf;
use std::time::SystemTime;

use imgsig::claim::Claim;
use imgsig::digest::Digest;
use imgsig::pgp::SigningKey;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: gen_mirror KEYFILE OUTDIR N");
        std::process::exit(2);
    }
    let key_bytes = std::fs::read(&args[1]).expect("read key");
    let out = PathBuf::from(&args[2]);
    let n: usize = args[3].parse().expect("N");
    let workers = std::thread::available_parallelism().map(|p| p.get()).unwrap_or(1);
    let now = SystemTime::now();
    let lines: Vec<Vec<String>> = std::thread::scope(|s| {
        (0..workers)
            .map(|w| {
                let (key_bytes, out) = (&key_bytes, &out);
                s.spawn(move || {
                    let key = SigningKey::from_bytes(key_bytes, None, now).expect("signing key");
                    let mut lines = Vec::new();
                    for i in (w..n).step_by(workers) {
                        let manifest = format!(
                            "{{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"size\":{i},\"digest\":\"sha256:{:064x}\"}},\"layers\":[]}}",
                            i
                        );
                        let digest = Digest::sha256(manifest.as_bytes());
                        let repo = format!("bench/app{}", i % 100);
                        let claim = Claim {
                            manifest_digest: digest.clone(),
                            docker_reference: format!("bench.example/{repo}:v{i}"),
                            creator: Some("gen_mirror".into()),
                            timestamp: Some(1_700_000_000),
                        };
                        let sig = key.sign(&claim.to_json(), now).expect("sign");
                        let dir = out.join(format!("{repo}@sha256={}", digest.hex()));
                        std::fs::create_dir_all(&dir).expect("mkdir");
                        std::fs::write(dir.join("manifest.json"), &manifest).expect("manifest");
                        std::fs::write(dir.join("signature-1"), &sig).expect("signature");
                        lines.push(format!("bench.example/{repo}@{digest}"));
                    }
                    lines
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().expect("worker"))
            .collect()
    });
    let mut list = std::fs::File::create(out.join("list.txt")).expect("list");
    for l in lines.iter().flatten() {
        writeln!(list, "{l}").expect("write list");
    }
}
