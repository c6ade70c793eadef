# Sourced by run.sh and smoke.sh: the fuzz targets and the libFuzzer options
# each one runs with. One line per target: NAME MAX_LEN DICTIONARY.
FUZZ_TARGETS="
envelope      4096  openpgp.dict
claim         4096  claim.dict
policy        8192  policy.dict
reference     512   reference.dict
registries_d  4096  registries_d.dict
auth_file     4096  auth_file.dict
manifest      16384 manifest.dict
signature_api 8192  signature_api.dict
blob          4096  openpgp.dict
sigstore      16384 sigstore.dict
oci           16384 oci.dict
"

# The cargo-fuzz build flags shared by every build and run: release with
# debug assertions and overflow checks, AddressSanitizer (the default).
# FUZZ_SANITIZER=none builds without a sanitizer (cargo fuzz -s none): for
# the long runs of the slow OpenPGP targets, 3 to 5 times faster; safe Rust
# needs no ASan to find panics, overflows, hangs and unbounded allocation,
# and the C code (nettle) is not instrumented either way. The CI smoke keeps
# ASan.
case "${FUZZ_SANITIZER:-address}" in
    address) FUZZ_BUILD_FLAGS=(-O -a) ;;
    none) FUZZ_BUILD_FLAGS=(-O -a -s none --target-dir target/nosan) ;;
    *) echo "FUZZ_SANITIZER: address or none, not ${FUZZ_SANITIZER}" >&2; exit 2 ;;
esac

# sequoia's errors are anyhow errors, which capture a backtrace each when
# RUST_BACKTRACE is set (cargo-fuzz sets it): that made the OpenPGP targets
# 5x slower. Panics still print theirs. Without a malloc stack per
# allocation and a quarantine, ASan costs less on these allocation-heavy
# parsers; it still reports every invalid access.
export RUST_LIB_BACKTRACE=0

export ASAN_OPTIONS=${ASAN_OPTIONS:-malloc_context_size=0:quarantine_size_mb=0}

fuzz_target_names() {
    echo "$FUZZ_TARGETS" | awk 'NF { print $1 }'
}

# libFuzzer options for target $1 (besides -runs / -max_total_time).
fuzz_options() {
    local line
    line=$(echo "$FUZZ_TARGETS" | awk -v t="$1" '$1 == t')
    [ -n "$line" ] || { echo "unknown fuzz target: $1" >&2; return 1; }
    set -- $line
    echo "-dict=dicts/$3 -max_len=$2 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1"
}

fuzz_require_tools() {
    cargo +nightly --version >/dev/null 2>&1 || {
        echo "fuzz: the nightly toolchain is needed (rustup toolchain install nightly)" >&2
        return 1
    }
    cargo +nightly fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked
}
