//! Checks that exactly one OpenPGP cryptographic backend is selected. With
//! neither, sequoia is not a dependency at all (Cargo.toml) and this is the
//! only message; with both, sequoia's own build script may stop the build
//! first, saying the same in its words ("Multiple cryptographic backends
//! selected ... Nettle, OpenSSL").
//!
//! On Linux with glibc it also links GCC's unwinder statically (see
//! [`static_unwinder`]).

use std::path::PathBuf;

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
    static_unwinder();
}

/// Rust's standard library links GCC's unwinder as the shared `libgcc_s.so.1`
/// on Linux/glibc. Loading it costs every run of imgsig about 0.14 ms on the
/// 2-core VM of docs/performance.md ("Start-up"): one more object for the
/// dynamic loader, and its constructor (`__cpu_indicator_init`) executes
/// `cpuid` a dozen times, each a trap to the hypervisor on a VM. A one-shot
/// verify takes about 2 ms, so that is 7 % of it.
///
/// GCC ships the same unwinder as a static archive, `libgcc_eh.a` (what
/// `gcc -static-libgcc` links). A linker script named `libgcc_s.so` that
/// says `INPUT(-lgcc_eh)`, in a directory searched before the system's,
/// makes `-lgcc_s` link that archive instead: panics, `catch_unwind`,
/// backtraces and the stack-overflow message work as before (the unwinder is
/// the same code, inside the binary), and no `unsafe` code is involved.
/// Nothing else imgsig loads (glibc's NSS modules for host-name lookup are C)
/// unwinds through it.
///
/// Skipped (the shared library is linked as usual) off Linux/glibc, for
/// static (`crt-static`) builds, which link `libgcc_eh` themselves, when the
/// C compiler does not have `libgcc_eh.a`, and when `IMGSIG_SHARED_LIBGCC`
/// is set at build time.
fn static_unwinder() {
    println!("cargo:rerun-if-env-changed=IMGSIG_SHARED_LIBGCC");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let linux_gnu = var("CARGO_CFG_TARGET_OS") == "linux" && var("CARGO_CFG_TARGET_ENV") == "gnu";
    let crt_static = var("CARGO_CFG_TARGET_FEATURE").split(',').any(|f| f == "crt-static");
    if !linux_gnu || crt_static || std::env::var_os("IMGSIG_SHARED_LIBGCC").is_some() {
        return;
    }
    // The compiler cargo links with is `cc` unless the target says otherwise.
    let target = var("TARGET").replace('-', "_");
    let cc = std::env::var(format!("CARGO_TARGET_{}_LINKER", target.to_uppercase()))
        .or_else(|_| std::env::var("CC"))
        .unwrap_or_else(|_| "cc".to_owned());
    let found = std::process::Command::new(&cc)
        .arg("-print-file-name=libgcc_eh.a")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .filter(|p| p.is_absolute() && p.is_file());
    if found.is_none() {
        println!("cargo:warning=libgcc_eh.a not found by `{cc}`: linking the shared libgcc_s (slower start-up)");
        return;
    }
    let dir = PathBuf::from(var("OUT_DIR")).join("static-unwinder");
    let script = dir.join("libgcc_s.so");
    let written = std::fs::create_dir_all(&dir).and_then(|()| {
        std::fs::write(
            &script,
            "/* imgsig build.rs: link GCC's unwinder statically */\nINPUT(-lgcc_eh)\n",
        )
    });
    if let Err(e) = written {
        println!(
            "cargo:warning=cannot write {}: {e}; linking the shared libgcc_s",
            script.display()
        );
        return;
    }
    println!("cargo:rustc-link-search=native={}", dir.display());
}
