#!/usr/bin/env bash
# Every performance target in one run, ending with one table of ratios:
#   floor  criterion benches (benches/verify.rs): bare sequoia verification of
#          distinct RSA-2048 messages per core, and imgsig's in-process paths
#   P1     bench/verify-one.sh  one signature, whole process, vs gpg and skopeo
#   P2,P4,P5 bench/bulk.sh      10,000-image mirror offline; sign vs gpg --sign
#   P3     bench/online.sh      200 lab images online vs a skopeo copy loop
#   bench/all.sh        (about 12 minutes on 2 cores from a warm build; IMGSIG_LAB_DIR=DIR reuses a lab for P3)
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_RESULTS=$(mktemp /tmp/imgsig-bench-results.XXXXXX)
export BENCH_RESULTS
trap 'rm -f "$BENCH_RESULTS"' EXIT
scripts/deps --test
cargo build --release --locked --quiet --bin imgsig --example gen_mirror --example sequoia_floor

echo "== floor and in-process paths (criterion)"
env -u RUST_BACKTRACE -u RUST_LIB_BACKTRACE cargo bench --locked --quiet --bench verify 2>&1 |
  grep -E "^[a-z_]+/|time:" | grep -v "change:" || true
python3 - >>"$BENCH_RESULTS" <<'PY'
import json, os
for key, path in [("floor_ns", "envelope/sequoia_verifier_floor"), ("verify_ns", "envelope/imgsig_verify"),
                  ("claim_ns", "claim/parse"), ("policy_ns", "policy/evaluate_signed_by_one_signature")]:
    est = json.load(open(os.path.join("target/criterion", path, "new/estimates.json")))
    print(f"{key}={est['median']['point_estimate']:.0f}")
PY
echo "cores=$(nproc)" >>"$BENCH_RESULTS"

echo "== P1"; bench/verify-one.sh
echo "== P2, P4, P5"; bench/bulk.sh
echo "== P3"; bench/online.sh

python3 - "$BENCH_RESULTS" <<'PY'
import sys
r = {}
for line in open(sys.argv[1]):
    k, v = line.strip().split("=", 1)
    r[k] = float(v)
floor_rate = 1e9 / r["floor_ns"]
rows = [
    ("P1 one verify vs skopeo standalone-verify", f"{r['p1_imgsig_ms']:.2f} ms vs {r['p1_skopeo_ms']:.2f} ms",
     r["p1_imgsig_ms"] / r["p1_skopeo_ms"], "<= 0.07", r["p1_imgsig_ms"] / r["p1_skopeo_ms"] <= 0.07),
    ("P1 one verify vs gpg --verify", f"{r['p1_imgsig_ms']:.2f} ms vs {r['p1_gpg_ms']:.2f} ms",
     r["p1_imgsig_ms"] / r["p1_gpg_ms"], "<= 0.6", r["p1_imgsig_ms"] / r["p1_gpg_ms"] <= 0.6),
    (f"P2 {r['p2_images']:.0f} images offline, gpg-made signatures (sig/s)", f"{r['p2_rate']:,.0f}/s vs 40,000/s",
     r["p2_rate"] / 40000, ">= 1.0", r["p2_rate"] >= 40000),
    (f"P2 the same, imgsig-made signatures (sig/s)", f"{r['p2imgsig_rate']:,.0f}/s vs 40,000/s",
     r["p2imgsig_rate"] / 40000, "(report)", None),
    ("P2 (gpg-made) vs bare sequoia on the same signatures in memory, all cores",
     f"{r['p2_rate']:,.0f}/s vs {r['p2_floorall_rate']:,.0f}/s", r["p2_rate"] / r["p2_floorall_rate"], "(report)", None),
    ("P2 (imgsig-made) vs bare sequoia on the same signatures in memory, all cores",
     f"{r['p2imgsig_rate']:,.0f}/s vs {r['p2imgsig_floorall_rate']:,.0f}/s",
     r["p2imgsig_rate"] / r["p2imgsig_floorall_rate"], "(report)", None),
    ("P2 vs criterion floor (imgsig-made pool) x cores", f"{r['p2_rate']:,.0f}/s vs {floor_rate:,.0f}/s x {r['cores']:.0f}",
     r["p2_rate"] / (floor_rate * r["cores"]), "(report)", None),
    (f"P3 {r['p3_images']:.0f} images online vs skopeo copy loop", f"{r['p3_imgsig_s']:.2f} s vs {r['p3_skopeo_s']:.2f} s",
     r["p3_skopeo_s"] / r["p3_imgsig_s"], ">= 30 (x faster)", r["p3_skopeo_s"] / r["p3_imgsig_s"] >= 30),
    ("P4 peak RSS during P2", f"{r['p2_rss_mb']:.1f} MB vs 30 MB", r["p2_rss_mb"] / 30, "<= 1.0", r["p2_rss_mb"] <= 30),
    ("P5 one sign vs gpg --sign", f"{r['p5_imgsig_ms']:.2f} ms vs {r['p5_gpg_ms']:.2f} ms",
     r["p5_imgsig_ms"] / r["p5_gpg_ms"], "<= 0.6", r["p5_imgsig_ms"] / r["p5_gpg_ms"] <= 0.6),
]
print()
print("| target | measured | ratio | goal | met |")
print("|---|---|---|---|---|")
for name, measured, ratio, goal, met in rows:
    print(f"| {name} | {measured} | {ratio:.3f} | {goal} | {'-' if met is None else ('yes' if met else 'NO')} |")
print()
print(f"in-process medians (criterion): sequoia Verifier floor {r['floor_ns']/1000:.1f} us/message "
      f"({floor_rate:,.0f}/s per core); imgsig envelope verify {r['verify_ns']/1000:.1f} us; "
      f"claim parse {r['claim_ns']/1000:.2f} us; policy evaluation with one signature {r['policy_ns']/1000:.1f} us")
PY
