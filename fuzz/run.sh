#!/usr/bin/env bash
# A long fuzz run of one target, as recorded in docs/security.md:
#
#   fuzz/run.sh TARGET [EXECS]        (EXECS defaults to 10000000)
#
# runs exactly
#
#   cargo +nightly fuzz run -O -a TARGET corpus/TARGET seeds/TARGET -- \
#     -runs=EXECS -dict=dicts/D -max_len=N -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
#
# (D and N per target in targets.sh) from fuzz/, growing corpus/TARGET
# (not committed) and logging to logs/TARGET.log. Any crash, timeout or
# out-of-memory stops the run with a non-zero exit and leaves the input in
# artifacts/TARGET/. Extra arguments after EXECS go to libFuzzer (e.g.
# -jobs=2). Run it with `nice -n 19` on a shared machine.
set -euo pipefail
cd "$(dirname "$0")"
. ./targets.sh

target=${1:?usage: fuzz/run.sh TARGET [EXECS] [LIBFUZZER-OPTIONS...]}
runs=${2:-10000000}
shift $(($# < 2 ? $# : 2))
opts=$(fuzz_options "$target")
fuzz_require_tools
# auth_file and oci write each input to files and read them back: on a tmpfs
# that is 16 times faster than on the disk (auth_file: 17,000 against 400
# exec/s here). Only for the long runs, and the build is done first with the
# usual TMPDIR.
if { [ "$target" = auth_file ] || [ "$target" = oci ]; } && [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
    cargo +nightly fuzz build "${FUZZ_BUILD_FLAGS[@]}" "$target"
    export TMPDIR=/dev/shm
fi
mkdir -p "corpus/$target" logs
log="logs/$target.log"
echo "fuzz/run.sh: $(date -u +%FT%TZ) cargo +nightly fuzz run ${FUZZ_BUILD_FLAGS[*]} $target corpus/$target seeds/$target -- -runs=$runs $opts $*" | tee "$log"
set +e
# shellcheck disable=SC2086 # $opts is a list of options
cargo +nightly fuzz run "${FUZZ_BUILD_FLAGS[@]}" "$target" "corpus/$target" "seeds/$target" -- \
    -runs="$runs" $opts "$@" 2>&1 | tee -a "$log"
rc=${PIPESTATUS[0]}
set -e
echo "fuzz/run.sh: $(date -u +%FT%TZ) exit $rc; corpus/$target has $(find "corpus/$target" -type f | wc -l) inputs" | tee -a "$log"
exit "$rc"
