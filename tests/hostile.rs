//! Hostile signature inputs fed to `imgsig verify --output json`: each one is
//! rejected (exit 1, `verdict: rejected`) with its own reason code, quickly
//! and with bounded memory.
//!
//! Real GnuPG output is made in a throw-away GNUPGHOME under /tmp (short
//! path: gpg-agent socket names are limited); synthetic messages are built
//! with sequoia. Every `imgsig` run happens under `ulimit -v` (a verifier
//! that inflates a bomb into memory dies) and a 60 s hang detector.

mod common;

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{assert_exit, fixture, imgsig, json, run, stderr, stdout, tempdir};
use openpgp::cert::prelude::*;
use openpgp::crypto::{KeyPair, Signer as _};
use openpgp::packet::signature::{Signature3, SignatureBuilder};
use openpgp::packet::{Literal, OnePassSig, Signature, Tag};
use openpgp::parse::Parse;
use openpgp::policy::StandardPolicy;
use openpgp::serialize::stream::{ArbitraryWriter, Compressor, Encryptor, LiteralWriter, Message, Signer};
use openpgp::serialize::{Marshal, MarshalInto};
use openpgp::types::{
    CompressionAlgorithm, CompressionLevel, DataFormat, HashAlgorithm, KeyFlags, ReasonForRevocation, SignatureType,
    Timestamp,
};
use openpgp::{Cert, Packet, PacketPile};
use sequoia_openpgp as openpgp;
use serde_json::Value;

const IDENTITY: &str = "testing/manifest";
const MANIFEST: &str = "signature/image.manifest.json";
const DIGEST: &str = "sha256:20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e55";
/// Address-space limit for every imgsig run (KiB). A verifier that holds a
/// decompressed 1 GiB bomb in memory cannot stay under it.
const ULIMIT_KIB: u64 = 768 * 1024;
/// Hang detector only; every case here finishes in well under a second.
const HANG: Duration = Duration::from_secs(60);
const DAY: u64 = 86_400;

// ---------------------------------------------------------------------------
// Running imgsig

/// A valid claim for the fixture manifest and `IDENTITY`.
fn claim() -> Vec<u8> {
    format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"{IDENTITY}"}},"image":{{"docker-manifest-digest":"{DIGEST}"}},"type":"atomic container signature"}},"optional":{{"creator":"imgsig hostile test","timestamp":1700000000}}}}"#
    )
    .into_bytes()
}

/// Run `cmd` under `ulimit -v` with a hang detector.
fn guarded(cmd: Command) -> Output {
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg(format!("ulimit -v {ULIMIT_KIB} && exec \"$0\" \"$@\""))
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => sh.env(k, v),
            None => sh.env_remove(k),
        };
    }
    sh.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = sh.spawn().expect("spawn imgsig");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > HANG {
            let _ = child.kill();
            let _ = child.wait();
            panic!("imgsig hung for more than {HANG:?}: {cmd:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Output {
        status,
        stdout: t_out.join().unwrap(),
        stderr: t_err.join().unwrap(),
    }
}

/// `imgsig verify --output json --keyring K --identity REF --manifest M SIG`.
fn verify_with(keyring: &Path, sig: &Path, env: &[(&str, &Path)]) -> Output {
    let mut c = imgsig();
    c.args(["verify", "--output", "json", "--keyring"])
        .arg(keyring)
        .args(["--identity", IDENTITY, "--manifest"])
        .arg(fixture(MANIFEST))
        .arg(sig);
    for (k, v) in env {
        c.env(k, v);
    }
    guarded(c)
}

/// A temporary directory holding the keyring and the signature under test.
struct Case {
    dir: tempfile::TempDir,
    keyring: PathBuf,
}

impl Case {
    /// A case whose trusted keyring holds `certs`.
    fn new(certs: &[&Cert]) -> Case {
        let dir = tempdir();
        let keyring = dir.path().join("trusted.gpg");
        let mut f = std::fs::File::create(&keyring).unwrap();
        for c in certs {
            c.serialize(&mut f).unwrap();
        }
        Case { dir, keyring }
    }

    /// A case whose trusted keyring is the file `keyring` (copied).
    fn with_keyring_file(keyring: &Path) -> Case {
        let dir = tempdir();
        let dest = dir.path().join("trusted.gpg");
        std::fs::copy(keyring, &dest).unwrap();
        Case { dir, keyring: dest }
    }

    fn write_sig(&self, name: &str, blob: &[u8]) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, blob).unwrap();
        p
    }

    /// Verify `blob`; returns the process output and the signature's JSON.
    fn verify(&self, blob: &[u8]) -> (Output, Value) {
        let sig = self.write_sig("signature", blob);
        let o = verify_with(&self.keyring, &sig, &[]);
        let doc = json(&o);
        let s = doc["manifests"][0]["requirements"][0]["signatures"][0].clone();
        (o, s)
    }

    #[track_caller]
    fn rejected(&self, blob: &[u8], reason: &str) -> Value {
        let (o, s) = self.verify(blob);
        assert_rejected(&o, reason);
        eprintln!("rejected [{reason}]: {}", s["message"].as_str().unwrap_or_default());
        s
    }

    #[track_caller]
    fn accepted(&self, blob: &[u8]) -> Value {
        let (o, s) = self.verify(blob);
        assert_exit(&o, 0);
        assert_eq!(json(&o)["verdict"], "accepted");
        assert_eq!(s["verdict"], "accepted");
        s
    }
}

#[track_caller]
fn assert_rejected(o: &Output, reason: &str) {
    assert_exit(o, 1);
    let doc = json(o);
    assert_eq!(doc["verdict"], "rejected", "{}", stderr(o));
    assert_eq!(doc["verified_reference"], Value::Null);
    let s = &doc["manifests"][0]["requirements"][0]["signatures"][0];
    assert_eq!(s["verdict"], "rejected");
    assert_eq!(
        s["reason"],
        reason,
        "wrong reason; message: {}\n--- stderr\n{}",
        s["message"],
        stderr(o)
    );
    assert!(s["message"].as_str().is_some_and(|m| !m.is_empty()));
}

/// The rejection message names the key.
#[track_caller]
fn assert_names(s: &Value, fingerprint: &str) {
    let msg = s["message"].as_str().unwrap_or_default();
    assert!(
        msg.to_uppercase().contains(&fingerprint.to_uppercase()),
        "message does not name key {fingerprint}: {msg}"
    );
}

// ---------------------------------------------------------------------------
// Building messages with sequoia

fn policy() -> &'static StandardPolicy<'static> {
    static P: StandardPolicy<'static> = StandardPolicy::new();
    &P
}

fn now() -> SystemTime {
    SystemTime::now()
}

fn days_ago(n: u64) -> SystemTime {
    now() - Duration::from_secs(n * DAY)
}

/// An Ed25519 certificate whose primary key certifies and signs, created
/// ten days ago.
fn signing_cert(uid: &str) -> Cert {
    CertBuilder::new()
        .add_userid(uid)
        .set_cipher_suite(CipherSuite::Cv25519)
        .set_creation_time(days_ago(10))
        .set_primary_key_flags(KeyFlags::empty().set_certification().set_signing())
        .generate()
        .unwrap()
        .0
}

fn primary_keypair(cert: &Cert) -> KeyPair {
    cert.primary_key()
        .key()
        .clone()
        .parts_into_secret()
        .unwrap()
        .into_keypair()
        .unwrap()
}

/// The secret key pair of the subkey with fingerprint `fpr`.
fn subkey_keypair(cert: &Cert, fpr: &openpgp::Fingerprint) -> KeyPair {
    cert.keys()
        .subkeys()
        .find(|k| &k.key().fingerprint() == fpr)
        .expect("subkey")
        .key()
        .clone()
        .parts_into_secret()
        .unwrap()
        .role_into_unspecified()
        .into_keypair()
        .unwrap()
}

/// `One-Pass Signature, Literal Data, Signature` by `kp`.
fn signed(kp: KeyPair, payload: &[u8], hash: HashAlgorithm, time: SystemTime) -> Vec<u8> {
    let mut out = Vec::new();
    let message = Message::new(&mut out);
    let signer = Signer::new(message, kp)
        .unwrap()
        .hash_algo(hash)
        .unwrap()
        .creation_time(time)
        .build()
        .unwrap();
    let mut literal = LiteralWriter::new(signer).date(time).unwrap().build().unwrap();
    literal.write_all(payload).unwrap();
    literal.finalize().unwrap();
    out
}

fn signed_claim(cert: &Cert) -> Vec<u8> {
    signed(primary_keypair(cert), &claim(), HashAlgorithm::SHA256, now())
}

/// The top-level packets of a message.
fn packets(blob: &[u8]) -> Vec<Packet> {
    PacketPile::from_bytes(blob).unwrap().into_children().collect()
}

fn serialize(packets: &[Packet]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in packets {
        p.serialize(&mut out).unwrap();
    }
    out
}

/// `bytes` (a packet sequence) inside one compressed data packet.
fn compressed(bytes: &[u8], algo: CompressionAlgorithm) -> Vec<u8> {
    let mut out = Vec::new();
    let message = Message::new(&mut out);
    let mut c = Compressor::new(message).algo(algo).build().unwrap();
    c.write_all(bytes).unwrap();
    c.finalize().unwrap();
    out
}

/// A message as gpg writes it: `Compressed(OPS, Literal, Signature)`.
fn gpg_like(cert: &Cert) -> Vec<u8> {
    compressed(&signed_claim(cert), CompressionAlgorithm::Zip)
}

fn ops_of(blob: &[u8]) -> OnePassSig {
    packets(blob)
        .into_iter()
        .find_map(|p| match p {
            Packet::OnePassSig(o) => Some(o),
            _ => None,
        })
        .expect("one-pass signature")
}

fn sig_of(blob: &[u8]) -> Signature {
    packets(blob)
        .into_iter()
        .find_map(|p| match p {
            Packet::Signature(s) => Some(s),
            _ => None,
        })
        .expect("signature")
}

fn literal_packet(payload: &[u8], time: SystemTime) -> Packet {
    let mut lit = Literal::new(DataFormat::Binary);
    lit.set_body(payload.to_vec());
    lit.set_date(time).unwrap();
    lit.into()
}

/// A message whose signature packet is a version 3 signature (what old
/// gpg `--force-v3-sigs` wrote; still accepted by containers/image).
fn v3_signed(kp: &mut KeyPair, payload: &[u8], hash: HashAlgorithm, time: SystemTime) -> Vec<u8> {
    let ctime = Timestamp::try_from(time).unwrap();
    let mut ctx = hash.context().unwrap().for_signature(3);
    ctx.update(payload);
    ctx.update(&[u8::from(SignatureType::Binary)]);
    ctx.update(&u32::from(ctime).to_be_bytes());
    let digest = ctx.into_digest().unwrap();
    let mpis = kp.sign(hash, &digest).unwrap();
    let public = kp.public().clone();
    let sig = Signature3::new(
        SignatureType::Binary,
        ctime,
        public.keyid(),
        public.pk_algo(),
        hash,
        [digest[0], digest[1]],
        mpis,
    );
    let mut ops = openpgp::packet::one_pass_sig::OnePassSig3::new(SignatureType::Binary);
    ops.set_hash_algo(hash);
    ops.set_pk_algo(public.pk_algo());
    ops.set_issuer(public.keyid());
    ops.set_last(true);
    serialize(&[
        Packet::OnePassSig(ops.into()),
        literal_packet(payload, time),
        Packet::Signature(Signature::V3(sig)),
    ])
}

/// Compress `total` zero bytes as the literal data of a message signed by
/// `cert`'s key: the zeros are streamed through the compressor, never held
/// in memory. `trailer` is written raw after the literal packet, inside the
/// compression.
fn bomb(cert: &Cert, literal_zeros: u64, trailer_zeros: u64) -> Vec<u8> {
    let good = signed_claim(cert);
    let ops = Packet::from(ops_of(&good)).to_vec().unwrap();
    let sig = Packet::from(sig_of(&good)).to_vec().unwrap();
    let zeros = vec![0u8; 1 << 20];
    let mut out = Vec::new();
    let message = Message::new(&mut out);
    let mut c = Compressor::new(message)
        .algo(CompressionAlgorithm::Zip)
        .level(CompressionLevel::best())
        .build()
        .unwrap();
    c.write_all(&ops).unwrap();
    let mut lit = LiteralWriter::new(c).build().unwrap();
    let mut left = literal_zeros;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        lit.write_all(&zeros[..n]).unwrap();
        left -= n as u64;
    }
    let mut c = lit.finalize_one().unwrap().expect("compressor");
    c.write_all(&sig).unwrap();
    let mut left = trailer_zeros;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        c.write_all(&zeros[..n]).unwrap();
        left -= n as u64;
    }
    c.finalize().unwrap();
    out
}

/// Deterministic pseudo-random bytes (xorshift64*).
fn pseudo_random(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Real GnuPG

/// A throw-away GnuPG home under /tmp; its agent is killed on drop.
struct Gnupg {
    home: tempfile::TempDir,
}

impl Gnupg {
    fn new() -> Gnupg {
        let home = tempfile::Builder::new()
            .prefix("imgsig-gpg-")
            .tempdir_in("/tmp")
            .unwrap();
        assert!(home.path().as_os_str().len() < 80, "GNUPGHOME path too long");
        std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        Gnupg { home }
    }

    fn path(&self) -> &Path {
        self.home.path()
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("gpg");
        c.env("GNUPGHOME", self.path())
            .args([
                "--batch",
                "--no-tty",
                "--quiet",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
            ])
            .stdin(Stdio::null());
        c
    }

    #[track_caller]
    fn ok(&self, args: &[&str]) -> Output {
        let o = run(self.cmd().args(args));
        assert!(o.status.success(), "gpg {args:?} failed:\n{}{}", stdout(&o), stderr(&o));
        o
    }

    /// `--faked-system-time` arguments for `offset` seconds from now.
    fn faked(offset: i64) -> String {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
        format!("{}!", now + offset)
    }

    /// Generate a key; returns its fingerprint.
    fn gen_key(&self, email: &str, algo: &str, usage: &str, expire: &str, offset: Option<i64>) -> String {
        let uid = format!("Test <{email}>");
        let mut args: Vec<String> = Vec::new();
        if let Some(off) = offset {
            args.push("--faked-system-time".into());
            args.push(Gnupg::faked(off));
        }
        args.extend(["--quick-gen-key", &uid, algo, usage, expire].map(String::from));
        self.ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
        self.fingerprints(email)[0].clone()
    }

    /// Primary then subkey fingerprints of the key with this user ID.
    fn fingerprints(&self, email: &str) -> Vec<String> {
        let o = self.ok(&["--with-colons", "--list-keys", email]);
        stdout(&o)
            .lines()
            .filter(|l| l.starts_with("fpr:"))
            .map(|l| l.split(':').nth(9).unwrap().to_owned())
            .collect()
    }

    /// Export public keys into a binary keyring file.
    fn export(&self, keys: &[&str], name: &str) -> PathBuf {
        let mut args = vec!["--export"];
        args.extend_from_slice(keys);
        let o = self.ok(&args);
        assert!(!o.stdout.is_empty(), "nothing exported for {keys:?}");
        let p = self.path().join(name);
        std::fs::write(&p, &o.stdout).unwrap();
        p
    }

    /// The claim file to sign.
    fn claim_file(&self) -> PathBuf {
        let p = self.path().join("claim.json");
        std::fs::write(&p, claim()).unwrap();
        p
    }

    /// Run a gpg signing/encryption command on the claim; returns the output.
    #[track_caller]
    fn make(&self, args: &[&str]) -> Vec<u8> {
        let input = self.claim_file();
        let out = self.path().join("out.gpg");
        let _ = std::fs::remove_file(&out);
        let mut all: Vec<&str> = args.to_vec();
        let out_s = out.to_str().unwrap();
        let in_s = input.to_str().unwrap();
        all.extend(["--output", out_s, in_s]);
        self.ok(&all);
        std::fs::read(&out).unwrap()
    }
}

impl Drop for Gnupg {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", self.path())
            .args(["--kill", "gpg-agent"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// One GnuPG home with an Ed25519 signing key; its binary keyring.
fn gnupg_with_key() -> (Gnupg, String, PathBuf) {
    let g = Gnupg::new();
    let fpr = g.gen_key("signer@example.com", "ed25519", "sign", "never", Some(-3600));
    let keyring = g.export(&[&fpr], "signer.gpg");
    (g, fpr, keyring)
}

// ---------------------------------------------------------------------------
// Real gpg output

#[test]
fn gpg_sign_is_accepted_control() {
    let (g, fpr, keyring) = gnupg_with_key();
    let case = Case::with_keyring_file(&keyring);
    let s = case.accepted(&g.make(&["-u", &fpr, "--sign"]));
    assert_eq!(s["signer"]["primary_fingerprint"], fpr.as_str());
    assert_eq!(s["signed_digest"], DIGEST);
}

#[test]
fn gpg_cleartext_armored_and_detached_are_rejected() {
    let (g, fpr, keyring) = gnupg_with_key();
    let case = Case::with_keyring_file(&keyring);
    // Cleartext-signed and armored messages start with "-----BEGIN PGP".
    let clear = g.make(&["-u", &fpr, "--clearsign"]);
    assert!(clear.starts_with(b"-----BEGIN PGP SIGNED MESSAGE"));
    case.rejected(&clear, "unrecognized-format");
    let armored = g.make(&["-u", &fpr, "--sign", "--armor"]);
    assert!(armored.starts_with(b"-----BEGIN PGP MESSAGE"));
    case.rejected(&armored, "unrecognized-format");
    // A detached signature starts with a signature packet header, which
    // containers/image's sniffing lets through; there is nothing signed.
    let detached = g.make(&["-u", &fpr, "--detach-sign"]);
    let s = case.rejected(&detached, "detached-signature");
    assert_names(&s, &fpr);
}

#[test]
fn gpg_encrypted_messages_are_rejected() {
    let g = Gnupg::new();
    let fpr = g.gen_key("enc@example.com", "ed25519", "sign", "never", Some(-3600));
    g.ok(&["--quick-add-key", &fpr, "cv25519", "encr", "never"]);
    let keyring = g.export(&[&fpr], "enc.gpg");
    let case = Case::with_keyring_file(&keyring);
    // gpg's encrypted output starts with a PKESK packet (0x84/0x85), which
    // containers/image's FromBlob does not recognise as a signature.
    let enc_signed = g.make(&["-u", &fpr, "-r", &fpr, "--encrypt", "--sign"]);
    case.rejected(&enc_signed, "unrecognized-format");
    let enc = g.make(&["-r", &fpr, "--encrypt"]);
    case.rejected(&enc, "unrecognized-format");
    // Wrapped in a compressed data packet it passes the sniffing; the
    // structure check sees the encryption.
    case.rejected(&compressed(&enc_signed, CompressionAlgorithm::Zip), "encrypted-message");
    case.rejected(&compressed(&enc, CompressionAlgorithm::Zlib), "encrypted-message");
}

#[test]
fn gpg_weak_digests_are_rejected() {
    let (g, fpr, keyring) = gnupg_with_key();
    let case = Case::with_keyring_file(&keyring);
    for algo in ["SHA1", "MD5", "RIPEMD160"] {
        let o = run(g
            .cmd()
            .args([
                "--allow-weak-digest-algos",
                "--digest-algo",
                algo,
                "-u",
                &fpr,
                "--output",
                "-",
                "--sign",
            ])
            .arg(g.claim_file()));
        if !o.status.success() || o.stdout.is_empty() {
            // This gpg refuses the algorithm outright; nothing to verify.
            eprintln!("gpg cannot sign with {algo}: {}", stderr(&o));
            assert_ne!(algo, "SHA1", "gpg must be able to make a SHA-1 signature");
            continue;
        }
        let s = case.rejected(&o.stdout, "weak-hash-algorithm");
        assert_names(&s, &fpr);
        let msg = s["message"].as_str().unwrap();
        assert!(msg.to_uppercase().contains(algo), "{algo}: {msg}");
    }
}

#[test]
fn gpg_signature_from_the_future_is_rejected_within_skew_accepted() {
    let (g, fpr, keyring) = gnupg_with_key();
    let case = Case::with_keyring_file(&keyring);
    let tomorrow = g.make(&["--faked-system-time", &Gnupg::faked(DAY as i64), "-u", &fpr, "--sign"]);
    let s = case.rejected(&tomorrow, "future-signature");
    assert_names(&s, &fpr);
    // Two minutes ahead is within the 5-minute clock-skew allowance.
    let soon = g.make(&["--faked-system-time", &Gnupg::faked(120), "-u", &fpr, "--sign"]);
    let s = case.accepted(&soon);
    assert_eq!(s["signer"]["primary_fingerprint"], fpr.as_str());
}

#[test]
fn signature_just_past_the_skew_is_rejected() {
    let cert = signing_cert("skew");
    let case = Case::new(&[&cert]);
    let ahead = |secs| {
        signed(
            primary_keypair(&cert),
            &claim(),
            HashAlgorithm::SHA256,
            now() + Duration::from_secs(secs),
        )
    };
    case.accepted(&ahead(240));
    let s = case.rejected(&ahead(600), "future-signature");
    assert_names(&s, &cert.fingerprint().to_hex());
}

#[test]
fn gpg_two_signers_are_rejected() {
    let g = Gnupg::new();
    let a = g.gen_key("a@example.com", "ed25519", "sign", "never", Some(-3600));
    let b = g.gen_key("b@example.com", "ed25519", "sign", "never", Some(-3600));
    let keyring = g.export(&[&a, &b], "ab.gpg");
    let case = Case::with_keyring_file(&keyring);
    let both = g.make(&["-u", &a, "-u", &b, "--sign"]);
    let s = case.rejected(&both, "multiple-signatures");
    assert_names(&s, &a);
    assert_names(&s, &b);
    // Also without compression, and with the second signer unknown.
    let plain = g.make(&["-u", &a, "-u", &b, "--compress-algo", "none", "--sign"]);
    case.rejected(&plain, "multiple-signatures");
    let only_a = Case::with_keyring_file(&g.export(&[&a], "a.gpg"));
    only_a.rejected(&both, "multiple-signatures");
}

#[test]
fn gpg_expired_key_is_rejected() {
    let g = Gnupg::new();
    // Created three days ago, valid for one day; the signature was made
    // while it was valid.
    let fpr = g.gen_key("old@example.com", "ed25519", "sign", "1d", Some(-3 * DAY as i64));
    let keyring = g.export(&[&fpr], "old.gpg");
    let sig = g.make(&[
        "--faked-system-time",
        &Gnupg::faked(-3 * DAY as i64 + 3600),
        "-u",
        &fpr,
        "--sign",
    ]);
    let s = Case::with_keyring_file(&keyring).rejected(&sig, "expired-key");
    assert_names(&s, &fpr);
}

#[test]
fn gpg_key_that_can_no_longer_sign_is_rejected() {
    let g = Gnupg::new();
    // Signed an hour ago; the key's usage was then changed to certify only.
    // gpg replaces the old self-signature, so the exported key has no
    // binding from before the signature: it was never valid for it.
    let fpr = g.gen_key("usage@example.com", "ed25519", "sign", "never", Some(-2 * 3600));
    let sig = g.make(&["--faked-system-time", &Gnupg::faked(-3600), "-u", &fpr, "--sign"]);
    let mut child = g
        .cmd()
        .args(["--expert", "--command-fd", "0", "--edit-key", &fpr])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"change-usage\nS\nQ\nsave\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "gpg change-usage failed: {}", stderr(&o));
    let listing = stdout(&g.ok(&["--with-colons", "--list-keys", &fpr]));
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("pub:") && l.split(':').nth(11) == Some("cC")),
        "usage not changed: {listing}"
    );
    let keyring = g.export(&[&fpr], "usage.gpg");
    let s = Case::with_keyring_file(&keyring).rejected(&sig, "not-signing-key");
    assert_names(&s, &fpr);
}

#[test]
fn gpg_revoked_key_is_rejected() {
    let g = Gnupg::new();
    let fpr = g.gen_key("revoked@example.com", "ed25519", "sign", "never", Some(-2 * 3600));
    let sig = g.make(&["--faked-system-time", &Gnupg::faked(-3600), "-u", &fpr, "--sign"]);
    let case = Case::with_keyring_file(&g.export(&[&fpr], "before.gpg"));
    case.accepted(&sig);
    // Import the revocation certificate gpg stored at key generation.
    let rev = g.path().join(format!("openpgp-revocs.d/{fpr}.rev"));
    let text = std::fs::read_to_string(&rev)
        .unwrap()
        .replace(":-----BEGIN", "-----BEGIN");
    let armored = g.path().join("revocation.asc");
    std::fs::write(&armored, text).unwrap();
    g.ok(&["--import", armored.to_str().unwrap()]);
    let case = Case::with_keyring_file(&g.export(&[&fpr], "after.gpg"));
    let s = case.rejected(&sig, "revoked-key");
    assert_names(&s, &fpr);
}

#[test]
fn keys_come_only_from_the_keyring_argument() {
    // The signer's key is in GNUPGHOME (and HOME/.gnupg); the keyring given
    // holds another key. imgsig must not look anywhere else.
    let (g, fpr, _) = gnupg_with_key();
    let other = g.gen_key("other@example.com", "ed25519", "sign", "never", Some(-3600));
    let keyring = g.export(&[&other], "other.gpg");
    let sig = g.make(&["-u", &fpr, "--sign"]);
    let fake_home = tempdir();
    std::os::unix::fs::symlink(g.path(), fake_home.path().join(".gnupg")).unwrap();
    let case = Case::with_keyring_file(&keyring);
    let sig_path = case.write_sig("sig", &sig);
    let o = verify_with(
        &case.keyring,
        &sig_path,
        &[("GNUPGHOME", g.path()), ("HOME", fake_home.path())],
    );
    assert_rejected(&o, "unknown-key");
    assert_names(&json(&o)["manifests"][0]["requirements"][0]["signatures"][0], &fpr);
}

// ---------------------------------------------------------------------------
// Synthetic messages

#[test]
fn sequoia_plain_and_compressed_are_accepted_control() {
    let cert = signing_cert("control");
    let case = Case::new(&[&cert]);
    case.accepted(&signed_claim(&cert));
    case.accepted(&gpg_like(&cert));
    case.accepted(&compressed(&signed_claim(&cert), CompressionAlgorithm::BZip2));
}

#[test]
fn nested_compression_is_rejected() {
    let cert = signing_cert("nested");
    let case = Case::new(&[&cert]);
    let mut blob = signed_claim(&cert);
    for depth in 1..=4 {
        blob = compressed(&blob, CompressionAlgorithm::Zip);
        if depth >= 2 {
            case.rejected(&blob, "nested-message");
        }
    }
}

#[test]
fn deeply_nested_packets_are_rejected() {
    let cert = signing_cert("deep");
    let case = Case::new(&[&cert]);
    // 10000 nested "uncompressed" compressed-data packets of indeterminate
    // length (old format 0xA3, algorithm 0), then a valid message.
    let mut blob = [0xA3u8, 0x00].repeat(10_000);
    blob.extend(signed_claim(&cert));
    case.rejected(&blob, "nested-message");
    // The same depth of real ZIP layers is not constructible within 4 MiB;
    // 20 real layers are.
    let mut blob = signed_claim(&cert);
    for _ in 0..20 {
        blob = compressed(&blob, CompressionAlgorithm::Zip);
    }
    case.rejected(&blob, "nested-message");
}

/// 1 GiB of zeros compressed into about 1 MiB: a verifier without a
/// payload limit would take seconds and a gigabyte (the ulimit stops it).
fn gib_bomb() -> &'static (Cert, Vec<u8>) {
    static BOMB: OnceLock<(Cert, Vec<u8>)> = OnceLock::new();
    BOMB.get_or_init(|| {
        let cert = signing_cert("bomb");
        let blob = bomb(&cert, 1 << 30, 0);
        (cert, blob)
    })
}

#[test]
fn compression_bomb_stops_at_the_payload_limit() {
    let (cert, blob) = gib_bomb();
    assert!(blob.len() < 4 << 20, "bomb is {} bytes", blob.len());
    assert!(blob.len() * 500 < 1 << 30);
    let case = Case::new(&[cert]);
    let start = Instant::now();
    let s = case.rejected(blob, "payload-too-large");
    eprintln!("bomb rejected in {:?}", start.elapsed());
    assert_eq!(s["signer"], Value::Null);
}

#[test]
fn compression_bomb_after_the_signature_is_rejected() {
    // A valid claim, then 1 GiB of zeros inside the same compressed packet.
    let cert = signing_cert("trailing bomb");
    let blob = bomb(&cert, 0, 1 << 30);
    let case = Case::new(&[&cert]);
    case.rejected(&blob, "malformed-signature");
}

#[test]
fn two_literal_packets_are_rejected() {
    let cert = signing_cert("two literals");
    let case = Case::new(&[&cert]);
    let mut p = packets(&signed_claim(&cert));
    assert_eq!(p.len(), 3);
    p.insert(2, literal_packet(b"{}", now()));
    case.rejected(&serialize(&p), "malformed-signature");
    case.rejected(
        &compressed(&serialize(&p), CompressionAlgorithm::Zip),
        "malformed-signature",
    );
}

#[test]
fn one_pass_signature_without_signature_is_rejected() {
    let cert = signing_cert("ops only");
    let case = Case::new(&[&cert]);
    let p = packets(&signed_claim(&cert));
    case.rejected(&serialize(&p[..2]), "malformed-signature");
    case.rejected(
        &compressed(&serialize(&p[..2]), CompressionAlgorithm::Zip),
        "malformed-signature",
    );
}

#[test]
fn signature_without_one_pass_signature_is_rejected() {
    let cert = signing_cert("sig first");
    let case = Case::new(&[&cert]);
    let p = packets(&signed_claim(&cert));
    // RFC 4880's old form `Signature, Literal Data`: valid OpenPGP, but not
    // what simple signing uses.
    let old_style = serialize(&[p[2].clone(), p[1].clone()]);
    let s = case.rejected(&old_style, "malformed-signature");
    assert!(s["message"].as_str().unwrap().contains("one-pass"));
    case.rejected(
        &compressed(&old_style, CompressionAlgorithm::Zip),
        "malformed-signature",
    );
}

#[test]
fn trailing_data_is_rejected() {
    let cert = signing_cert("trailing");
    let case = Case::new(&[&cert]);
    let good = signed_claim(&cert);
    // Junk bytes, a marker packet, a second compressed message.
    for trailer in [
        b"garbage after the signature".to_vec(),
        vec![0u8; 64],
        vec![0xA8, 0x03, b'P', b'G', b'P'],
        gpg_like(&cert),
    ] {
        let mut blob = good.clone();
        blob.extend(&trailer);
        case.rejected(&blob, "malformed-signature");
        let mut blob = gpg_like(&cert);
        blob.extend(&trailer);
        case.rejected(&blob, "malformed-signature");
    }
    // The whole message twice: two signatures.
    let mut twice = good.clone();
    twice.extend(&good);
    case.rejected(&twice, "multiple-signatures");
}

#[test]
fn empty_and_oversized_files_are_rejected() {
    let cert = signing_cert("sizes");
    let case = Case::new(&[&cert]);
    case.rejected(b"", "empty-signature");
    // 5 MiB: a valid message followed by padding.
    let mut big = gpg_like(&cert);
    big.resize(5 << 20, 0);
    case.rejected(&big, "signature-too-large");
}

#[test]
fn random_bytes_after_a_valid_header_byte_are_rejected() {
    let cert = signing_cert("random");
    let case = Case::new(&[&cert]);
    for seed in 1..=8u64 {
        let mut blob = vec![0xA3, 0x01];
        blob.extend(pseudo_random(seed, 4096));
        case.rejected(&blob, "malformed-signature");
        let mut blob = vec![0xA3];
        blob.extend(pseudo_random(seed + 100, 4096));
        case.rejected(&blob, "malformed-signature");
    }
}

#[test]
fn armor_is_never_decoded_even_behind_a_recognised_first_byte() {
    // containers/image's list includes 0x3D ('='), which is not a binary
    // packet header; sequoia would fall back to ASCII-armor decoding.
    let cert = signing_cert("armor");
    let case = Case::new(&[&cert]);
    let mut armored = Vec::new();
    {
        let mut w = openpgp::armor::Writer::new(&mut armored, openpgp::armor::Kind::Message).unwrap();
        w.write_all(&gpg_like(&cert)).unwrap();
        w.finalize().unwrap();
    }
    for prefix in [&b"=\n"[..], &b"\x88\x00\n"[..], &b"\xa3"[..]] {
        let mut blob = prefix.to_vec();
        blob.extend(&armored);
        case.rejected(&blob, "malformed-signature");
    }
}

#[test]
fn v3_signatures_are_accepted_but_not_with_weak_hashes() {
    let cert = signing_cert("v3");
    let case = Case::new(&[&cert]);
    let mut kp = primary_keypair(&cert);
    let v3 = v3_signed(&mut kp, &claim(), HashAlgorithm::SHA256, now());
    assert_eq!(sig_of(&v3).version(), 3);
    let s = case.accepted(&v3);
    assert_eq!(s["signer"]["primary_fingerprint"], cert.fingerprint().to_hex());
    case.accepted(&compressed(&v3, CompressionAlgorithm::Zip));
    for weak in [HashAlgorithm::MD5, HashAlgorithm::SHA1] {
        let blob = v3_signed(&mut kp, &claim(), weak, now());
        let s = case.rejected(&blob, "weak-hash-algorithm");
        assert_names(&s, &cert.keyid().to_hex());
    }
    // A v3 signature by a key that is not trusted.
    let stranger = signing_cert("v3 stranger");
    let blob = v3_signed(&mut primary_keypair(&stranger), &claim(), HashAlgorithm::SHA256, now());
    let s = case.rejected(&blob, "unknown-key");
    assert_names(&s, &stranger.keyid().to_hex());
    // The reference's v3 fixtures still verify (see tests/vectors.rs).
    let o = run(imgsig()
        .args(["verify", "--output", "json", "--keyring"])
        .arg(fixture("signature/public-key-with-subkey.gpg"))
        .args(["--identity", "testing/manifest:latest", "--manifest"])
        .arg(fixture(MANIFEST))
        .arg(fixture("signature/subkey.signature-v3")));
    assert_exit(&o, 0);
}

#[test]
fn one_pass_signature_disagreeing_with_the_signature_is_rejected() {
    let cert = signing_cert("ops mismatch");
    let case = Case::new(&[&cert]);
    let good = signed(primary_keypair(&cert), &claim(), HashAlgorithm::SHA512, now());
    let mut p = packets(&good);
    let Packet::OnePassSig(openpgp::packet::OnePassSig::V3(ops)) = &mut p[0] else {
        panic!("expected a v3 one-pass signature")
    };
    ops.set_hash_algo(HashAlgorithm::SHA256);
    let s = case.rejected(&serialize(&p), "malformed-signature");
    assert!(s["message"].as_str().unwrap().contains("SHA256"));
    case.rejected(
        &compressed(&serialize(&p), CompressionAlgorithm::Zip),
        "malformed-signature",
    );
    // An issuer that differs.
    let mut p = packets(&good);
    let Packet::OnePassSig(openpgp::packet::OnePassSig::V3(ops)) = &mut p[0] else {
        panic!("expected a v3 one-pass signature")
    };
    ops.set_issuer(openpgp::KeyID::from_hex("0123456789ABCDEF").unwrap());
    case.rejected(&serialize(&p), "malformed-signature");
}

#[test]
fn encrypted_inside_compression_is_rejected() {
    let cert = signing_cert("encrypted");
    let case = Case::new(&[&cert]);
    let mut out = Vec::new();
    {
        let message = Message::new(&mut out);
        let c = Compressor::new(message)
            .algo(CompressionAlgorithm::Zip)
            .build()
            .unwrap();
        let e = Encryptor::with_passwords(c, Some("password")).build().unwrap();
        let s = Signer::new(e, primary_keypair(&cert)).unwrap().build().unwrap();
        let mut l = LiteralWriter::new(s).build().unwrap();
        l.write_all(&claim()).unwrap();
        l.finalize().unwrap();
    }
    case.rejected(&out, "encrypted-message");
}

#[test]
fn unsigned_and_strange_packets_are_rejected() {
    let cert = signing_cert("unsigned");
    let case = Case::new(&[&cert]);
    // A compressed literal without any signature.
    let lit = serialize(&[literal_packet(&claim(), now())]);
    case.rejected(&compressed(&lit, CompressionAlgorithm::Zip), "not-signed");
    // A user ID packet where the literal data should be.
    let mut p = packets(&signed_claim(&cert));
    p[1] = openpgp::packet::UserID::from("not a literal").into();
    case.rejected(&serialize(&p), "malformed-signature");
    // A packet of an arbitrary tag inside the compression.
    let mut out = Vec::new();
    {
        let message = Message::new(&mut out);
        let c = Compressor::new(message).build().unwrap();
        let mut a = ArbitraryWriter::new(c, Tag::Private(60)).unwrap();
        a.write_all(b"private").unwrap();
        a.finalize().unwrap();
    }
    case.rejected(&out, "malformed-signature");
}

// ---------------------------------------------------------------------------
// Keys

#[test]
fn revoked_primary_key_is_rejected() {
    let cert = signing_cert("revoked");
    let sig = signed(primary_keypair(&cert), &claim(), HashAlgorithm::SHA256, days_ago(2));
    let mut signer = primary_keypair(&cert);
    // Hard revocation (compromised): invalid retroactively.
    let rev = cert
        .revoke(&mut signer, ReasonForRevocation::KeyCompromised, b"stolen")
        .unwrap();
    let revoked = cert.clone().insert_packets(rev).unwrap().0;
    let s = Case::new(&[&revoked]).rejected(&sig, "revoked-key");
    assert_names(&s, &cert.fingerprint().to_hex());
    // The revocation counts wherever it is: a keyring that also holds an
    // unrevoked copy of the certificate (before or after the revoked one)
    // is one merged certificate, as in gpg.
    for certs in [[&cert, &revoked], [&revoked, &cert]] {
        let s = Case::new(&certs).rejected(&sig, "revoked-key");
        assert_names(&s, &cert.fingerprint().to_hex());
    }
    // Soft revocation (retired) one day after the signature: sequoia would
    // accept the older signature; imgsig requires the key to be good now.
    let rev = CertRevocationBuilder::new()
        .set_reason_for_revocation(ReasonForRevocation::KeyRetired, b"rotated")
        .unwrap()
        .set_signature_creation_time(days_ago(1))
        .unwrap()
        .build(&mut signer, &cert, None)
        .unwrap();
    let retired = cert.clone().insert_packets(rev).unwrap().0;
    let s = Case::new(&[&retired]).rejected(&sig, "revoked-key");
    assert_names(&s, &cert.fingerprint().to_hex());
    // Control: before the revocation the same signature is fine.
    Case::new(&[&cert]).accepted(&sig);
}

#[test]
fn signing_capability_withdrawn_after_signing_is_rejected() {
    // Signed five days ago while the key could sign; one day ago the key
    // was re-certified for certification only. sequoia judges the key at the
    // signature's time; imgsig also requires it to be able to sign now.
    let cert = signing_cert("withdrawn");
    let sig = signed(primary_keypair(&cert), &claim(), HashAlgorithm::SHA256, days_ago(5));
    Case::new(&[&cert]).accepted(&sig);
    let uid = cert.userids().next().unwrap().userid().clone();
    let template = SignatureBuilder::new(SignatureType::PositiveCertification)
        .set_signature_creation_time(days_ago(1))
        .unwrap()
        .set_key_flags(KeyFlags::empty().set_certification())
        .unwrap();
    let binding = uid.bind(&mut primary_keypair(&cert), &cert, template).unwrap();
    let certify_only = cert.clone().insert_packets(binding).unwrap().0;
    let s = Case::new(&[&certify_only]).rejected(&sig, "not-signing-key");
    assert_names(&s, &cert.fingerprint().to_hex());
    assert!(s["message"].as_str().unwrap().contains("now"));
}

#[test]
fn encryption_subkey_cannot_sign() {
    // RSA keys can mathematically sign; the subkey is bound for encryption
    // only, so a signature made with its key material must be refused.
    let (cert, _) = CertBuilder::new()
        .add_userid("encryption subkey")
        .set_cipher_suite(CipherSuite::RSA2k)
        .set_creation_time(days_ago(10))
        .set_primary_key_flags(KeyFlags::empty().set_certification())
        .add_transport_encryption_subkey()
        .generate()
        .unwrap();
    let sub = cert.keys().subkeys().next().unwrap().key().fingerprint();
    let kp = subkey_keypair(&cert, &sub);
    let sig = signed(kp, &claim(), HashAlgorithm::SHA256, now());
    let case = Case::new(&[&cert]);
    let s = case.rejected(&sig, "not-signing-key");
    assert_names(&s, &sub.to_hex());
    assert_names(&s, &cert.fingerprint().to_hex());
    // The certify-only primary key cannot sign data either.
    let sig = signed(primary_keypair(&cert), &claim(), HashAlgorithm::SHA256, now());
    let s = case.rejected(&sig, "not-signing-key");
    assert_names(&s, &cert.fingerprint().to_hex());
}

#[test]
fn keyring_without_the_signing_subkey_is_rejected() {
    let (cert, _) = CertBuilder::new()
        .add_userid("subkey signer")
        .set_cipher_suite(CipherSuite::Cv25519)
        .set_creation_time(days_ago(10))
        .set_primary_key_flags(KeyFlags::empty().set_certification())
        .add_signing_subkey()
        .generate()
        .unwrap();
    let sub = cert.keys().subkeys().next().unwrap().key().fingerprint();
    let sig = signed(subkey_keypair(&cert, &sub), &claim(), HashAlgorithm::SHA256, now());
    let s = Case::new(&[&cert]).accepted(&sig);
    assert_eq!(s["signer"]["primary_fingerprint"], cert.fingerprint().to_hex());
    assert_eq!(s["signer"]["signing_fingerprint"], sub.to_hex());
    let without = cert.clone().retain_subkeys(|_| false);
    let s = Case::new(&[&without]).rejected(&sig, "unknown-key");
    assert_names(&s, &sub.to_hex());
}

#[test]
fn expired_signing_subkey_is_rejected() {
    let (cert, _) = CertBuilder::new()
        .add_userid("short-lived subkey")
        .set_cipher_suite(CipherSuite::Cv25519)
        .set_creation_time(days_ago(10))
        .set_primary_key_flags(KeyFlags::empty().set_certification())
        .add_subkey(KeyFlags::empty().set_signing(), Duration::from_secs(2 * DAY), None)
        .generate()
        .unwrap();
    let sub = cert.keys().subkeys().next().unwrap().key().fingerprint();
    // Made while the subkey was valid (nine days ago).
    let sig = signed(
        subkey_keypair(&cert, &sub),
        &claim(),
        HashAlgorithm::SHA256,
        days_ago(9),
    );
    let s = Case::new(&[&cert]).rejected(&sig, "expired-key");
    assert_names(&s, &sub.to_hex());
    assert!(cert.with_policy(policy(), None).is_ok());
}

#[test]
fn expired_signature_is_rejected() {
    let cert = signing_cert("expiring signature");
    let mut out = Vec::new();
    {
        let message = Message::new(&mut out);
        let template = SignatureBuilder::new(SignatureType::Binary)
            .set_signature_creation_time(days_ago(2))
            .unwrap()
            .set_signature_validity_period(Duration::from_secs(DAY))
            .unwrap();
        let s = Signer::with_template(message, primary_keypair(&cert), template)
            .unwrap()
            .creation_time(days_ago(2))
            .build()
            .unwrap();
        let mut l = LiteralWriter::new(s).build().unwrap();
        l.write_all(&claim()).unwrap();
        l.finalize().unwrap();
    }
    let s = Case::new(&[&cert]).rejected(&out, "expired-signature");
    assert_names(&s, &cert.fingerprint().to_hex());
}

// ---------------------------------------------------------------------------
// In-process properties of the envelope verifier

#[test]
fn every_truncation_and_byte_corruption_is_handled() {
    use imgsig::pgp::{verify, Keyring};
    let cert = signing_cert("mutations");
    let mut keys = Keyring::new();
    keys.add([cert.clone()]);
    let t = now();
    for blob in [signed_claim(&cert), gpg_like(&cert)] {
        let good = verify(&blob, &keys, t).expect("the unmodified message verifies");
        for len in 0..blob.len() {
            assert!(verify(&blob[..len], &keys, t).is_err(), "truncated to {len} bytes");
        }
        for i in 0..blob.len() {
            for flip in [0x01u8, 0x80, 0xFF] {
                let mut m = blob.clone();
                m[i] ^= flip;
                // Literal metadata (date, file name) is not signed, so some
                // changes verify; they must yield exactly the signed claim.
                if let Ok(env) = verify(&m, &keys, t) {
                    assert_eq!(env.payload, good.payload, "byte {i} ^ {flip:#x}");
                    assert_eq!(env.primary_fingerprint, good.primary_fingerprint);
                }
            }
        }
    }
}
