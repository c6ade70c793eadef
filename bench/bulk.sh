#!/usr/bin/env bash
# P2/P4: bulk offline verification of a mirror of N images (default 10000),
# each with one distinct RSA-2048 signature, in two corpora: made by gpg
# (compressed, SHA-512: what skopeo, podman and atomic write; the headline)
# and made by imgsig (uncompressed). Prints signatures per second and peak
# RSS for each. Also P5: one `imgsig sign` vs `gpg --sign` with the same key.
#   bench/bulk.sh [N [ALGO]]     ALGO: rsa2048 (default, the headline), rsa4096, ed25519
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
algo=${2:-rsa2048}
echo "key: $algo" >&2
scripts/deps --test
cargo build --release --locked --quiet --bin imgsig --example gen_mirror --example sequoia_floor
work=$(mktemp -d /tmp/imgsig-bulk.XXXXXX)
export GNUPGHOME="$work/gnupg"; mkdir -m 700 "$GNUPGHOME"
trap 'gpgconf --kill gpg-agent >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
gpg --batch --pinentry-mode loopback --passphrase '' --quick-gen-key 'bench <bench@imgsig.invalid>' "$algo" sign never 2>/dev/null
fpr=$(gpg --with-colons --list-keys | awk -F: '/^fpr/{print $10; exit}')
gpg --batch --export-secret-keys "$fpr" > "$work/key.sec"
gpg --batch --export "$fpr" > "$work/key.pub"
target/release/examples/gen_mirror "$work/key.sec" "$work/mirror" "$n"
echo "making the gpg-made corpus ($n gpg --sign runs)…" >&2
bench/gpg-mirror.sh "$fpr" "$work/gmirror" "$n"
printf '{"default":[{"type":"reject"}],"transports":{"docker":{"bench.example":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"%s"}]}}}\n' "$work/key.pub" > "$work/policy.json"
# Measured as users run it: RUST_BACKTRACE is left as the caller has it
# (imgsig turns library backtraces off itself; see docs/performance.md).
measure() { # corpus-dir label key-prefix
  : > "$work/runs"
  # One warm-up run (the mirror was just written), then five measured ones.
  target/release/imgsig verify --policy "$work/policy.json" --lookaside "$1" --from-file "$1/list.txt" > /dev/null 2>&1
  for i in 1 2 3 4 5; do
    /usr/bin/time -v -o "$work/time" target/release/imgsig verify --policy "$work/policy.json" --lookaside "$1" \
      --from-file "$1/list.txt" > /dev/null 2> "$work/err"
    secs=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s }' "$work/time")
    kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time")
    echo "$secs $kb" >> "$work/runs"
  done
  grep -q "$n accepted, 0 rejected, 0 could not" "$work/err" || { echo "not every image was accepted" >&2; tail -3 "$work/err" >&2; exit 1; }
  python3 - "$work/runs" "$n" "$2" "$3" <<'PY'
import os, statistics, sys
runs = [tuple(map(float, l.split())) for l in open(sys.argv[1])]
n, label, key = int(sys.argv[2]), sys.argv[3], sys.argv[4]
secs = statistics.median(r[0] for r in runs)
kb = max(r[1] for r in runs)
rates = sorted(n / r[0] for r in runs)
print(f"P2 {label}: median of {len(runs)} {n/secs:,.0f} signatures/s ({rates[0]:,.0f}-{rates[-1]:,.0f}); P4 peak RSS {kb/1024:.1f} MB")
res = os.environ.get("BENCH_RESULTS")
if res:
    with open(res, "a") as f:
        f.write(f"{key}_images={n}\n{key}_secs={secs:.3f}\n{key}_rate={n/secs:.0f}\n{key}_rss_mb={kb/1024:.1f}\n")
PY
}
# The floor: bare sequoia verification of the same signatures, already in
# memory, on one core and on all (examples/sequoia_floor.rs).
floor() { # corpus-dir label key-prefix
  target/release/examples/sequoia_floor "$work/key.pub" "$1" > "$work/floor"
  python3 - "$work/floor" "$2" "$3" <<'PY'
import os, sys
f = dict(l.strip().split("=", 1) for l in open(sys.argv[1]))
label, key = sys.argv[2], sys.argv[3]
print(f"   floor, {label}: bare sequoia on the same signatures in memory {float(f['floor1_rate']):,.0f}/s on one core, "
      f"{float(f['floorall_rate']):,.0f}/s on {f['floor_cores']} cores")
res = os.environ.get("BENCH_RESULTS")
if res:
    with open(res, "a") as out:
        out.write(f"{key}_floor1_rate={f['floor1_rate']}\n{key}_floorall_rate={f['floorall_rate']}\n")
PY
}
measure "$work/gmirror" "$algo gpg-made (compressed, SHA-512)" p2
floor "$work/gmirror" "gpg-made" p2
measure "$work/mirror" "$algo imgsig-made (uncompressed)" p2imgsig
floor "$work/mirror" "imgsig-made" p2imgsig
[ "$algo" = rsa2048 ] || exit 0   # P5 is measured with the headline key only
m=$(find "$work/mirror" -name manifest.json -print -quit)
echo claim > "$work/claim"
# hyperfine itself runs without RUST_BACKTRACE (an `env` wrapper per run would be timed too).
env -u RUST_BACKTRACE -u RUST_LIB_BACKTRACE hyperfine -N --warmup 5 --runs 50 --export-json "$work/p5.json" \
  "target/release/imgsig sign --key $work/key.sec --identity bench.example/x:1 --manifest $m -o $work/s.sig --force" \
  "gpg --batch --yes --sign -o $work/g.sig $work/claim" > /dev/null
python3 - "$work/p5.json" <<'PY'
import json, os, sys
r = json.load(open(sys.argv[1]))["results"]
print(f"P5 sign: imgsig {r[0]['median']*1000:.2f} ms, gpg --sign {r[1]['median']*1000:.2f} ms, ratio {r[0]['median']/r[1]['median']:.2f}")
res = os.environ.get("BENCH_RESULTS")
if res:
    with open(res, "a") as f:
        f.write(f"p5_imgsig_ms={r[0]['median']*1000:.2f}\np5_gpg_ms={r[1]['median']*1000:.2f}\n")
PY
