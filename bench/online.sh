#!/usr/bin/env bash
# P3: online verification of N images (default 200) in the peer-lab registry,
# signatures served by its HTTP lookaside: one `imgsig verify --from-file`
# vs a loop of `skopeo copy --policy … dir:` over the same images, in one
# hyperfine run. Target: imgsig >= 30x faster.
#   bench/online.sh [N]     (IMGSIG_LAB_DIR=DIR reuses a running lab, else one is started in /tmp)
# Images go to $LAB_REGISTRY/bench/img-1..N:1, each signed once by alice
# (signature-1 in $LAB_SIGSTORE/bench/, rewritten on every run).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200}
lab_sh=${IMGSIG_SHARED:-$(cd .. && pwd)/shared}/peer-lab/lab.sh
work=$(mktemp -d /tmp/imgsig-online.XXXXXX)
if [ -n "${IMGSIG_LAB_DIR:-}" ] && [ -f "$IMGSIG_LAB_DIR/env.sh" ]; then
  lab=$IMGSIG_LAB_DIR; trap 'rm -rf "$work"' EXIT
else
  lab=$work/lab; trap '"$lab_sh" down "$lab" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
  "$lab_sh" up "$lab" >"$work/lab-up.log" 2>&1 || { tail -20 "$work/lab-up.log" >&2; exit 1; }
fi
set -a; . "$lab/env.sh"; set +a

# The binary may be replaced by a concurrent cargo build: wait for it, then
# time a private copy so every run measures the same build.
for _ in $(seq 20); do [ -x target/release/imgsig ] && break; sleep 0.5; done
[ -x target/release/imgsig ] || cargo build --release --locked --quiet --bin imgsig
cp target/release/imgsig "$work/imgsig"

# N images, each signed once by alice; stale bench/ signatures are removed first
# (skopeo would keep them and add signature-2).
rm -rf "$LAB_SIGSTORE/bench"
seq "$n" | xargs -P 4 -I{} skopeo --policy "$LAB_POLICY_INSECURE" --registries.d "$LAB_REGISTRIES_D" \
  copy -q --dest-tls-verify=false --sign-by "$LAB_ALICE_FPR" \
  "oci:$LAB_OCI_LAYOUT:app-1.0" "docker://$LAB_REGISTRY/bench/img-{}:1"
one=$(find "$LAB_SIGSTORE/bench" -name signature-1 | wc -l); all=$(find "$LAB_SIGSTORE/bench" -name 'signature-*' | wc -l)
[ "$one" -eq "$n" ] && [ "$all" -eq "$n" ] || { echo "want $n x signature-1 in $LAB_SIGSTORE/bench, found $one of $all" >&2; exit 1; }
seq "$n" | sed "s|^|docker://$LAB_REGISTRY/bench/img-|; s|\$|:1|" >"$work/list.txt"

# The lab's alice policy covers only $LAB_REGISTRY/lab: bench/ needs alice here, everything else is rejected.
policy=$work/policy.json
printf '{"default":[{"type":"reject"}],"transports":{"docker":{"%s/bench":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"%s"}]}}}\n' \
  "$LAB_REGISTRY" "$LAB_ALICE_PUB" >"$policy"

unset RUST_BACKTRACE RUST_LIB_BACKTRACE
imgsig="$work/imgsig verify --policy $policy --registries-d $LAB_REGISTRIES_D --tls-verify=false"
skopeo="skopeo --policy $policy --registries.d $LAB_REGISTRIES_D copy -q --src-tls-verify=false"
loop="for r in \$(cat $work/list.txt); do $skopeo \"\$r\" dir:$work/x; rm -rf $work/x; done"

# Correctness first: one image with each tool, then the whole list with imgsig.
first=$(head -1 "$work/list.txt")
$imgsig "$first" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
$skopeo "$first" "dir:$work/x"; rm -rf "$work/x"
rc=0; $imgsig --from-file "$work/list.txt" >/dev/null 2>"$work/err" || rc=$?
echo "imgsig verify --from-file ($n images): exit $rc; $(tail -1 "$work/err")"
[ "$rc" -eq 0 ] || { tail -5 "$work/err" >&2; exit 1; }

# The lab's lookaside (python http.server) listens with a backlog of 5 and closes every
# connection; a dropped SYN under imgsig's concurrency costs a 1 s retransmit. Count them.
overflows() { awk '/^TcpExt:/ { if (!h) { split($0, k); h = 1 } else for (i = 1; i <= NF; i++) if (k[i] == "ListenOverflows") print $i }' /proc/net/netstat; }
o0=$(overflows)
hyperfine --warmup 1 --runs 3 --export-json "$work/p3.json" \
  -n imgsig "$imgsig --from-file $work/list.txt" -n skopeo-loop "$loop" >/dev/null
echo "TCP listen-queue overflows during the timing runs (system-wide): $(($(overflows) - o0))"
python3 - "$work/p3.json" "$n" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
for c in r.values():
    print(f"  {c['command']:12s} runs: " + ", ".join(f"{t:.2f}" for t in c["times"]) + " s")
i, s = r["imgsig"]["median"], r["skopeo-loop"]["median"]
print(f"P3 online {sys.argv[2]} images: imgsig {i:.2f} s, skopeo copy loop {s:.2f} s, ratio Y/X = {s/i:.1f}× (target >= 30×)")
import os
res = os.environ.get("BENCH_RESULTS")
if res:
    with open(res, "a") as f:
        f.write(f"p3_images={sys.argv[2]}\np3_imgsig_s={i:.3f}\np3_skopeo_s={s:.3f}\n")
PY
