//! Checks that exactly one OpenPGP cryptographic backend is selected. With
//! neither, sequoia is not a dependency at all (Cargo.toml) and this is the
//! only message; with both, sequoia's own build script may stop the build
//! first, saying the same in its words ("Multiple cryptographic backends
//! selected ... Nettle, OpenSSL").

fn main() {
    // Features are part of the build's fingerprint: nothing else to watch.
    println!("cargo:rerun-if-changed=build.rs");
    let nettle = std::env::var_os("CARGO_FEATURE_CRYPTO_NETTLE").is_some();
    let openssl = std::env::var_os("CARGO_FEATURE_CRYPTO_OPENSSL").is_some();
    if nettle == openssl {
        let what = if nettle { "both were" } else { "neither was" };
        eprintln!(
            "imgsig: select exactly one OpenPGP backend: the feature `crypto-nettle` (the default) \
             or `crypto-openssl` (`--no-default-features --features crypto-openssl`); {what} selected"
        );
        std::process::exit(1);
    }
}
