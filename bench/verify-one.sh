#!/usr/bin/env bash
# Whole-process time of verifying one signature: imgsig vs gpg --verify vs
# skopeo standalone-verify, on the same skopeo-made RSA-3072 signature from the
# peer lab, in one hyperfine run. Prints the medians and the ratios.
#   bench/verify-one.sh            (builds imgsig --release, starts a lab in /tmp)
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${IMGSIG_SHARED:-$(cd .. && pwd)/shared}
scripts/deps --test
cargo build --release --locked --quiet
lab=$(mktemp -d /tmp/imgsig-bench.XXXXXX); rmdir "$lab"
trap '"$shared/peer-lab/lab.sh" down "$lab" >/dev/null 2>&1 || true; rm -rf "$lab"' EXIT
"$shared/peer-lab/lab.sh" up "$lab" >/dev/null 2>&1
set -a; . "$lab/env.sh"; set +a
m=$LAB_MANIFESTS/lab_app_1.0.json
s=$LAB_SIGNATURES/app-1.0.alice.sig
bin=$PWD/target/release/imgsig
out=$(mktemp)
# Without RUST_BACKTRACE, and without an `env` wrapper inside the timed command.
env -u RUST_BACKTRACE -u RUST_LIB_BACKTRACE hyperfine -N --warmup 5 --runs "${RUNS:-100}" --export-json "$out" \
  "$bin verify --keyring $LAB_ALICE_PUB --identity $LAB_IMG_APP1 --manifest $m $s" \
  "gpg --batch --verify $s" \
  "skopeo standalone-verify $m $LAB_IMG_APP1 $LAB_ALICE_FPR $s" >/dev/null
python3 - "$out" <<'PY'
import json, os, sys
r = json.load(open(sys.argv[1]))["results"]
med = [x["median"] * 1000 for x in r]
names = ["imgsig verify", "gpg --verify", "skopeo standalone-verify"]
for n, m in zip(names, med):
    print(f"{n:28s} median {m:7.2f} ms")
print(f"imgsig / gpg    = {med[0]/med[1]:.2f}")
print(f"imgsig / skopeo = {med[0]/med[2]:.3f}")
res = os.environ.get("BENCH_RESULTS")
if res:
    with open(res, "a") as f:
        f.write(f"p1_imgsig_ms={med[0]:.2f}\np1_gpg_ms={med[1]:.2f}\np1_skopeo_ms={med[2]:.2f}\n")
PY
rm -f "$out"
