#!/usr/bin/env bash
# The CI smoke test of the fuzz targets: installs cargo-fuzz if missing,
# builds every target, then fuzzes each for FUZZ_SMOKE_SECONDS (default 20)
# from its committed seeds (new inputs go to a temporary directory). Fails
# on a failed build and on any crash, timeout or out-of-memory; the
# failing input is left in fuzz/artifacts/TARGET/.
#
#   fuzz/smoke.sh [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
. ./targets.sh

seconds=${FUZZ_SMOKE_SECONDS:-20}
fuzz_require_tools
cargo +nightly fuzz build "${FUZZ_BUILD_FLAGS[@]}"

targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(fuzz_target_names)
work=$(mktemp -d "${TMPDIR:-/tmp}/imgsig-fuzz-smoke.XXXXXX")
trap 'rm -rf "$work"' EXIT
failed=()
for t in "${targets[@]}"; do
    opts=$(fuzz_options "$t")
    mkdir -p "$work/$t"
    # shellcheck disable=SC2086 # $opts is a list of options
    if cargo +nightly fuzz run "${FUZZ_BUILD_FLAGS[@]}" "$t" "$work/$t" "seeds/$t" -- \
        -max_total_time="$seconds" $opts >"$work/$t.log" 2>&1; then
        echo "fuzz smoke $t: ok, $(grep -o 'stat::number_of_executed_units: [0-9]*' "$work/$t.log" | grep -o '[0-9]*$') runs"
    else
        echo "fuzz smoke $t: FAILED" >&2
        tail -n 40 "$work/$t.log" >&2
        failed+=("$t")
    fi
done
[ ${#failed[@]} -eq 0 ] || { echo "fuzz smoke: failed: ${failed[*]}" >&2; exit 1; }
