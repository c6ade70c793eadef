#!/usr/bin/env bash
# Issue 25, item 7: signing a big multi-platform image. Pushes an OCI index
# of N instances (default 300: 301 manifests with the index) to the peer
# lab's registry, then times `imgsig sign --lookaside-dir` of it with an
# RSA-3072 key file and through gpg-agent (--sign-by), each into a fresh
# lookaside directory; prints the median of RUNS runs (default 5) and the
# load average. Targets: <= 0.9 s (key file), <= 2.0 s (gpg-agent) on an
# idle 2-core machine. Then times gpg-agent alone making as many signatures
# (the floor for any signer that goes through the agent).
#   bench/sign-index.sh [N]      IMGSIG_LAB_DIR: a running lab (else one is started)
#   CARGO_TARGET_DIR is honoured for the release build; IMGSIG_BIN=PATH
#   times that binary instead (e.g. an older build, for a before/after).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-300}
runs=${RUNS:-5}
if [ -z "${IMGSIG_BIN:-}" ]; then
  cargo build --release --locked --quiet --bin imgsig
fi
bin=${IMGSIG_BIN:-${CARGO_TARGET_DIR:-target}/release/imgsig}
work=$(mktemp -d /tmp/imgsig-sidx.XXXXXX)
lab=${IMGSIG_LAB_DIR:-}
shared=${IMGSIG_SHARED:-$(cd .. && pwd)/shared}
cleanup() {
  GNUPGHOME="$work/gnupg" gpgconf --kill gpg-agent >/dev/null 2>&1 || true
  [ -n "${own_lab:-}" ] && "$shared/peer-lab/lab.sh" down "$lab" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
if [ -z "$lab" ]; then
  lab="$work/lab"; own_lab=1
  "$shared/peer-lab/lab.sh" up "$lab" > "$work/lab-up.log" 2>&1 || { cat "$work/lab-up.log" >&2; exit 1; }
fi
# shellcheck disable=SC1091
reg=$(. "$lab/env.sh" && echo "$LAB_REGISTRY")
regd_empty=$(. "$lab/env.sh" && echo "$LAB_REGISTRIES_D_EMPTY")

# The signing key: RSA-3072 without a passphrase, in a GnuPG home of its own
# (short path: gpg-agent's socket path is limited).
export GNUPGHOME="$work/gnupg"; mkdir -m 700 "$GNUPGHOME"
gpg --batch --pinentry-mode loopback --passphrase '' --quick-gen-key 'bench <bench@imgsig.invalid>' rsa3072 sign never 2>/dev/null
fpr=$(gpg --with-colons --list-keys 2>/dev/null | awk -F: '/^fpr/{print $10; exit}')
gpg --batch --export-secret-keys "$fpr" > "$work/key.sec"

# N image manifests (one config and one layer blob, an annotation each to
# make them distinct) and the index naming them all, pushed over HTTP.
python3 - "$reg" "$n" <<'PY'
import hashlib, json, sys, urllib.request
reg, n = sys.argv[1], int(sys.argv[2])
repo = f"http://{reg}/v2/bench/big"
def req(method, url, data=b"", ctype=None):
    r = urllib.request.Request(url, data=data, method=method)
    if ctype: r.add_header("Content-Type", ctype)
    with urllib.request.urlopen(r) as resp:
        return resp.headers
def blob(data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    loc = req("POST", f"{repo}/blobs/uploads/")["Location"]
    loc = loc if loc.startswith("http") else f"http://{reg}{loc}"
    req("PUT", f"{loc}{'&' if '?' in loc else '?'}digest={d}", data, "application/octet-stream")
    return {"digest": d, "size": len(data)}
config = blob(b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}')
layer = blob(b"bench layer")
mt = "application/vnd.oci.image.manifest.v1+json"
instances = []
for i in range(n):
    m = json.dumps({"schemaVersion": 2, "mediaType": mt,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", **layer}],
        "annotations": {"bench.instance": str(i)}}).encode()
    d = "sha256:" + hashlib.sha256(m).hexdigest()
    req("PUT", f"{repo}/manifests/{d}", m, mt)
    instances.append({"mediaType": mt, "digest": d, "size": len(m),
        "platform": {"os": "linux", "architecture": "amd64", "variant": f"v{i}"}})
it = "application/vnd.oci.image.index.v1+json"
index = json.dumps({"schemaVersion": 2, "mediaType": it, "manifests": instances}).encode()
req("PUT", f"{repo}/manifests/1.0", index, it)
PY
image="docker://$reg/bench/big:1.0"
total=$((n + 1))

measure() { # label, then the key flags
  local label=$1; shift
  : > "$work/runs"
  for i in $(seq 0 "$runs"); do
    rm -rf "$work/sigs"
    start=$(date +%s.%N)
    "$bin" sign --tls-verify=false --registries-d "$regd_empty" "$@" --lookaside-dir "$work/sigs" "$image" 2> "$work/err"
    end=$(date +%s.%N)
    grep -q "^imgsig: $total signature(s) for 1 image(s), 0 failed" "$work/err" || { tail -3 "$work/err" >&2; exit 1; }
    [ "$(find "$work/sigs" -name 'signature-*' | wc -l)" = "$total" ] || { echo "not $total signatures" >&2; exit 1; }
    # Run 0 warms up (page cache, gpg-agent's key cache).
    [ "$i" = 0 ] || echo "$end - $start" | bc >> "$work/runs"
  done
  sort -n "$work/runs" | awk -v label="$label" -v total="$total" '{ t[NR] = $1 } END {
    printf "%s: %d signatures, median of %d runs %.2f s (%.2f-%.2f)\n", label, total, NR, t[int((NR + 1) / 2)], t[1], t[NR] }'
}
# The floor through gpg-agent: the agent alone making the same number of
# RSA-3072 signatures (PKSIGN of a SHA-256 hash, what every signature asks
# of it), without imgsig, over one connection and over two at once. gpg-agent
# (npth) makes them one after another either way, so no signer that uses the
# agent can be faster than this.
agent_floor() { # connections
  local conns=$1 c start end
  grip=$(gpg --with-colons --with-keygrip --list-secret-keys "$fpr" 2>/dev/null | awk -F: '/^grp/{print $10; exit}')
  for c in $(seq 1 "$conns"); do
    python3 - "$grip" "$total" "$conns" "$c" > "$work/agent-$c" <<'PY'
import hashlib, sys
grip, total, conns, c = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
for i in range(c - 1, total, conns):
    print(f"SIGKEY {grip}\nSETHASH 8 {hashlib.sha256(str(i).encode()).hexdigest()}\nPKSIGN")
print("/bye")
PY
  done
  start=$(date +%s.%N)
  for c in $(seq 1 "$conns"); do
    gpg-connect-agent < "$work/agent-$c" > "$work/agent-$c.out" 2>&1 &
  done
  wait
  end=$(date +%s.%N)
  [ "$(cat "$work"/agent-*.out | grep -c '^D ')" = "$total" ] || { echo "gpg-agent made fewer than $total signatures" >&2; exit 1; }
  rm -f "$work"/agent-*
  printf 'gpg-agent alone, %d connection(s): %d signatures in %.2f s\n' "$conns" "$total" "$(echo "$end - $start" | bc)"
}

echo "machine: $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
measure "key file (RSA-3072)" --key "$work/key.sec"
measure "gpg-agent (--sign-by, RSA-3072)" --sign-by "$fpr"
agent_floor 1
agent_floor 2
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
