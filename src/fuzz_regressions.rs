//! The fuzz targets' inputs, replayed on stable as ordinary tests: every
//! committed seed (`fuzz/seeds/TARGET/*`) and every input that once made a
//! target crash, hang or run out of memory (`fuzz/regressions/TARGET/*`)
//! goes through exactly the code the fuzz target runs (`fuzz/src/lib.rs`,
//! included here, inside the library, so that it reaches the internals the
//! targets drive through `imgsig::fuzzing`), so a fixed bug stays fixed
//! without the nightly toolchain.
//! See docs/security.md.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

#[path = "../fuzz/src/lib.rs"]
mod fuzz_checks;

use fuzz_checks::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of `fuzz/KIND/TARGET`, sorted; none when the directory does not exist.
fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let Ok(dir) = fs::read_dir(fuzz_dir().join(kind).join(target)) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = dir.map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect();
    files.sort();
    files
}

/// Replay every input of `fuzz/KIND/TARGET` through its target; how many
/// inputs each target got.
fn replay(kind: &str) -> BTreeMap<&'static str, usize> {
    let mut replayed = BTreeMap::new();
    for &(target, check) in TARGETS {
        let inputs = inputs(kind, target);
        for path in &inputs {
            let data = fs::read(path).unwrap();
            // A panic names the input: the test harness prints it with the message.
            eprintln!("replaying {}", path.display());
            check(&data);
        }
        replayed.insert(target, inputs.len());
    }
    replayed
}

/// The directories of `fuzz/KIND/` that name no target: their inputs would
/// never be replayed (a misspelt target name, a renamed target).
fn strays(kind: &str) -> Vec<String> {
    let known: BTreeSet<&str> = TARGETS.iter().map(|(t, _)| *t).collect();
    let mut strays = Vec::new();
    for entry in fs::read_dir(fuzz_dir().join(kind)).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() && !known.contains(name.as_str()) {
            strays.push(format!("fuzz/{kind}/{name}/"));
        } else if path.is_file() && name != "README.md" {
            strays.push(format!("fuzz/{kind}/{name} (inputs go in fuzz/{kind}/TARGET/)"));
        }
    }
    strays
}

#[test]
fn every_regression_input_passes_its_target() {
    // Each file is a minimised input that made a target fail once; none yet
    // (fuzz/regressions/README.md says why). Every one committed is replayed:
    // none may sit where no target reads it.
    assert_eq!(strays("regressions"), Vec::<String>::new(), "not replayed");
    let replayed = replay("regressions");
    for (target, n) in &replayed {
        eprintln!("{target}: {n} regression inputs");
    }
}

#[test]
fn every_seed_passes_its_target() {
    assert_eq!(strays("seeds"), Vec::<String>::new(), "not replayed");
    let replayed = replay("seeds");
    let without: Vec<&str> = replayed.iter().filter(|(_, &n)| n == 0).map(|(t, _)| *t).collect();
    assert!(without.is_empty(), "no seed replayed for {without:?}");
}

#[test]
fn every_target_has_seeds_a_dictionary_entry_and_a_fuzz_target() {
    let targets_sh = fs::read_to_string(fuzz_dir().join("targets.sh")).unwrap();
    let cargo_toml = fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
    for (target, _) in TARGETS {
        assert!(!inputs("seeds", target).is_empty(), "fuzz/seeds/{target} is empty");
        assert!(
            fuzz_dir().join(format!("fuzz_targets/{target}.rs")).is_file(),
            "no fuzz_targets/{target}.rs"
        );
        assert!(
            cargo_toml.contains(&format!("name = \"{target}\"")),
            "{target} is not a [[bin]] of fuzz/Cargo.toml"
        );
        let line = targets_sh
            .lines()
            .find(|l| l.split_whitespace().next() == Some(target))
            .unwrap_or_else(|| panic!("{target} is not listed in fuzz/targets.sh"));
        let dict = line.split_whitespace().nth(2).unwrap();
        assert!(fuzz_dir().join("dicts").join(dict).is_file(), "no fuzz/dicts/{dict}");
    }
    let listed = targets_sh
        .lines()
        .filter(|l| l.split_whitespace().nth(2).is_some_and(|d| d.ends_with(".dict")))
        .count();
    assert_eq!(
        listed,
        TARGETS.len(),
        "fuzz/targets.sh and fuzz/src/lib.rs list different targets"
    );
}

/// The envelope target verifies against a real keyring: the seeds include
/// authentic signatures, so the fuzzer starts past the cryptographic check.
#[test]
fn the_envelope_seeds_include_an_authentic_signature() {
    let keys = {
        let mut k = imgsig::pgp::Keyring::new();
        k.add_keyring_bytes(&fs::read(fuzz_dir().join("keys/pubring.gpg")).unwrap())
            .unwrap();
        k
    };
    let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_764_000_000);
    let authentic = inputs("seeds", "envelope")
        .iter()
        .filter(|p| imgsig::signature::open(&fs::read(p).unwrap(), &keys, now).is_ok())
        .count();
    assert!(authentic >= 2, "only {authentic} authentic envelope seeds");
}

/// The sigstore target verifies under the fixture trust roots: its seeds
/// include a signature accepted under each kind (keys, key + Rekor, Fulcio +
/// Rekor, pki), so the fuzzer starts past every cryptographic check.
#[test]
fn the_sigstore_seeds_verify_under_every_kind_of_trust_root() {
    let accepted: usize = inputs("seeds", "sigstore")
        .iter()
        .map(|p| fuzz_checks::sigstore_accepted(&fs::read(p).unwrap()))
        .sum();
    // cosign-valid (keys), key-rekor (keys, keys + Rekor), fulcio-rekor, pki.
    assert!(accepted >= 5, "only {accepted} acceptances among the sigstore seeds");
}

/// The oci target reads each input as an `oci-archive:` and as an `oci:`
/// layout: its seeds open images both ways (skopeo's archive; ustar, PAX and
/// GNU long names; an index; layouts by the only entry, name and `@N`), so
/// the fuzzer starts past the digest checks.
#[test]
fn the_oci_seeds_open_images_from_archives_and_layouts() {
    let (archives, layouts) = inputs("seeds", "oci")
        .iter()
        .map(|p| fuzz_checks::oci_opened(&fs::read(p).unwrap()))
        .fold((0, 0), |(a, l), (a2, l2)| (a + a2, l + l2));
    assert!(
        archives >= 8,
        "only {archives} images opened from the oci archive seeds"
    );
    assert!(layouts >= 6, "only {layouts} images opened from the oci layout seeds");
}
