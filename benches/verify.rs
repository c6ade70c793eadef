//! In-process benchmarks (criterion): claim parsing, envelope verification
//! (imgsig's path and bare sequoia's `Verifier`, the floor), and policy
//! evaluation of one image with one signature.
//!
//!     cargo bench --bench verify
//!
//! sequoia-openpgp keeps a process-wide cache of signature checks, so
//! verifying the same message twice measures a cache hit. Every verifying
//! benchmark therefore takes fresh messages from one pool of distinct
//! RSA-2048 signed claims (each claim names its own manifest digest). The
//! pool is generated once with all cores and kept in
//! `target/bench-pool/`; a benchmark that runs out wraps around and says so.

use std::fs;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use imgsig::claim::{Claim, UntrustedClaim};
use imgsig::digest::Digest;
use imgsig::pgp::{self, Keyring, SigningKey};
use imgsig::policy::{self, ImageRef, ParseOptions, SignatureInput, Subject};
use imgsig::reference::DockerReference;
use sequoia_openpgp as openpgp;

#[path = "support/floor_helper.rs"]
mod floor_helper;
use floor_helper::FloorHelper;

use openpgp::cert::prelude::*;
use openpgp::parse::stream::VerifierBuilder;
use openpgp::parse::Parse;
use openpgp::policy::StandardPolicy;
use openpgp::serialize::SerializeInto;
use openpgp::Cert;

/// Messages in the pool: enough for every verifying benchmark below with
/// the measurement times configured in `config()`.
const POOL: usize = 60_000;
const IDENTITY: &str = "bench.example/app:v1";

struct Pool {
    cert: Cert,
    /// (manifest digest, signed message)
    items: Vec<(Digest, Vec<u8>)>,
    next: AtomicUsize,
}

impl Pool {
    /// The next fresh message (wraps around, with a warning, if exhausted).
    fn take(&self) -> &(Digest, Vec<u8>) {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        if i == self.items.len() {
            eprintln!(
                "warning: the pool of {} distinct messages is exhausted; further results include sequoia cache hits",
                self.items.len()
            );
        }
        &self.items[i % self.items.len()]
    }
}

fn pool_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("bench-pool")
}

fn digest_for(i: usize) -> Digest {
    Digest::sha256(format!("bench manifest {i}").as_bytes())
}

fn load_or_make_pool() -> Pool {
    let dir = pool_dir();
    let key_path = dir.join("rsa2048.tsk");
    let msgs_path = dir.join(format!("messages-{POOL}.bin"));
    if let (Ok(key_bytes), Ok(blob)) = (fs::read(&key_path), fs::read(&msgs_path)) {
        let cert = Cert::from_bytes(&key_bytes).expect("pool key");
        let mut items = Vec::with_capacity(POOL);
        let mut r = &blob[..];
        for i in 0..POOL {
            let mut len = [0u8; 4];
            r.read_exact(&mut len).expect("pool file");
            let mut msg = vec![0u8; u32::from_le_bytes(len) as usize];
            r.read_exact(&mut msg).expect("pool file");
            items.push((digest_for(i), msg));
        }
        return Pool {
            cert,
            items,
            next: AtomicUsize::new(0),
        };
    }
    eprintln!(
        "generating {POOL} distinct RSA-2048 signatures into {} (once)…",
        dir.display()
    );
    fs::create_dir_all(&dir).expect("pool dir");
    let (cert, _) = CertBuilder::new()
        .set_cipher_suite(CipherSuite::RSA2k)
        .add_userid("imgsig bench <bench@imgsig.invalid>")
        .set_primary_key_flags(openpgp::types::KeyFlags::empty().set_signing().set_certification())
        .generate()
        .expect("key generation");
    let key_bytes = cert.as_tsk().to_vec().expect("serialize key");
    let now = SystemTime::now();
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut signed: Vec<Vec<(usize, Vec<u8>)>> = std::thread::scope(|s| {
        (0..workers)
            .map(|w| {
                let key_bytes = &key_bytes;
                s.spawn(move || {
                    let key = SigningKey::from_bytes(key_bytes, None, now).expect("signing key");
                    (w..POOL)
                        .step_by(workers)
                        .map(|i| {
                            let claim = Claim {
                                manifest_digest: digest_for(i),
                                docker_reference: IDENTITY.into(),
                                creator: Some("imgsig bench".into()),
                                timestamp: Some(1_700_000_000),
                            };
                            (i, key.sign(&claim.to_json(), now).expect("sign"))
                        })
                        .collect()
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().expect("signer"))
            .collect()
    });
    let mut all: Vec<(usize, Vec<u8>)> = signed.drain(..).flatten().collect();
    all.sort_by_key(|(i, _)| *i);
    let mut out = Vec::new();
    for (_, msg) in &all {
        out.extend((msg.len() as u32).to_le_bytes());
        out.extend(msg);
    }
    fs::write(&key_path, &key_bytes).expect("write pool key");
    let tmp = msgs_path.with_extension("tmp");
    fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(&out))
        .expect("write pool");
    fs::rename(&tmp, &msgs_path).expect("write pool");
    Pool {
        cert,
        items: all.into_iter().map(|(i, m)| (digest_for(i), m)).collect(),
        next: AtomicUsize::new(0),
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_millis(600))
}

/// Time `iters` calls of `f`, each on a fresh message from the pool.
fn fresh<F: FnMut(&(Digest, Vec<u8>))>(pool: &Pool, iters: u64, mut f: F) -> Duration {
    let items: Vec<&(Digest, Vec<u8>)> = (0..iters).map(|_| pool.take()).collect();
    let start = Instant::now();
    for it in items {
        f(it);
    }
    start.elapsed()
}

fn benches(c: &mut Criterion) {
    let pool = load_or_make_pool();
    let now = SystemTime::now();
    let mut keys = Keyring::new();
    keys.add([pool.cert.clone()]);

    let mut g = c.benchmark_group("claim");
    let payload = pgp::verify(&pool.items[0].1, &keys, now)
        .expect("pool message verifies")
        .payload;
    g.throughput(Throughput::Elements(1));
    g.bench_function("parse", |b| {
        b.iter(|| UntrustedClaim::parse(std::hint::black_box(&payload)).expect("claim"))
    });
    g.finish();
    pool.next.store(1, Ordering::Relaxed);

    let mut g = c.benchmark_group("envelope");
    g.sampling_mode(SamplingMode::Flat).throughput(Throughput::Elements(1));
    let sp = StandardPolicy::new();
    let certs = [pool.cert.clone()];
    g.bench_function("sequoia_verifier_floor", |b| {
        b.iter_custom(|iters| {
            fresh(&pool, iters, |(_, msg)| {
                let helper = FloorHelper { certs: &certs };
                let mut v = VerifierBuilder::from_bytes(msg)
                    .expect("message")
                    .with_policy(&sp, None, helper)
                    .expect("verifies");
                let mut content = Vec::new();
                v.read_to_end(&mut content).expect("content");
            })
        })
    });
    g.bench_function("imgsig_verify", |b| {
        b.iter_custom(|iters| {
            fresh(&pool, iters, |(_, msg)| {
                pgp::verify(msg, &keys, now).expect("verifies");
            })
        })
    });
    g.finish();

    let key_file = pool_dir().join("rsa2048.pub");
    fs::write(&key_file, pool.cert.to_vec().expect("public key")).expect("write public key");
    let policy_json = format!(
        r#"{{"default":[{{"type":"reject"}}],"transports":{{"docker":{{"bench.example":[{{"type":"signedBy","keyType":"GPGKeys","keyPath":{}}}]}}}}}}"#,
        serde_json::to_string(&key_file).expect("path")
    );
    let pol = policy::parse(policy_json.as_bytes(), &ParseOptions::default()).expect("policy");
    let image = ImageRef::Docker(DockerReference::parse_normalized(IDENTITY).expect("reference"));
    let mut g = c.benchmark_group("policy");
    g.sampling_mode(SamplingMode::Flat).throughput(Throughput::Elements(1));
    g.bench_function("evaluate_signed_by_one_signature", |b| {
        b.iter_custom(|iters| {
            fresh(&pool, iters, |(digest, msg)| {
                let sigs = [SignatureInput {
                    source: "signature-1".into(),
                    blob: Ok(msg.clone()),
                }];
                let subject = Subject {
                    image: &image,
                    manifest_digest: Ok(digest),
                    signatures: Ok(&sigs),
                    sigstore: &[],
                    looked_in: "bench",
                    instance_of: None,
                    now,
                };
                assert!(policy::evaluate(&pol, &subject).accepted);
            })
        })
    });
    g.finish();
}

criterion_group! {
    name = verify;
    config = config();
    targets = benches
}
criterion_main!(verify);
