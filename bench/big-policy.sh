#!/usr/bin/env bash
# Memory and time of a big policy whose scopes share key files (issue 24 §2):
# a gpg-made keyring of 301 keys named by every requirement of 1,000 and
# 5,000 scopes, and a 1-key file named by 100,000 scopes; plus 1,000 scopes
# each naming that keyring *and* a key file of their own (1,000 distinct key
# sets). Each run loads the policy and verifies one skopeo-made signature
# (whole process, /usr/bin/time: wall time and peak RSS).
# Target: the 1,000 x 301 policy in <= 0.5 s and <= 50 MB peak RSS, and memory
# growing with the distinct key files, not with the requirements.
#   bench/big-policy.sh          (builds imgsig --release; about 2 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps --test
cargo build --release --locked --quiet --bin imgsig
bin=$PWD/target/release/imgsig
w=$(mktemp -d /tmp/imgsig-bigpol.XXXXXX)
export GNUPGHOME=$w/gnupg
trap 'gpgconf --kill all >/dev/null 2>&1 || true; rm -rf "$w"' EXIT
mkdir -m 700 "$GNUPGHOME"

keys=${KEYS:-301}
echo "== generating $keys keys with gpg (Ed25519, no passphrase)" >&2
for i in $(seq 1 "$keys"); do
  printf 'Key-Type: eddsa\nKey-Curve: ed25519\nKey-Usage: sign\nName-Real: Vendor %s\nName-Email: v%s@vendor.example\nExpire-Date: 0\n%%no-protection\n%%commit\n' "$i" "$i"
done >"$w/batch"
gpg --batch --quiet --gen-key "$w/batch" 2>/dev/null
gpg --batch --export >"$w/vendor.gpg"
signer=$(gpg --batch --with-colons --list-keys v1@vendor.example | awk -F: '/^fpr:/ {print $10; exit}')
gpg --batch --export "$signer" >"$w/one.gpg"
# A key of its own for each scope of the last case: not among the vendor keys.
printf 'Key-Type: eddsa\nKey-Curve: ed25519\nKey-Usage: sign\nName-Real: Own\nName-Email: own@example.com\nExpire-Date: 0\n%%no-protection\n%%commit\n' >"$w/batch-own"
gpg --batch --quiet --gen-key "$w/batch-own" 2>/dev/null
gpg --batch --export own@example.com >"$w/own.gpg"

reg=registry.example.com
id=$reg/ns/app0:1.0
cp examples/manifest.json "$w/manifest.json"
skopeo standalone-sign "$w/manifest.json" "$id" "$signer" -o "$w/signature-1"

# policy FILE SCOPES KIND: KIND = shared (keyPath vendor.gpg) | one (keyPath one.gpg) |
#   own (keyPaths vendor.gpg + own-N.gpg, N distinct files, each holding a key not in vendor.gpg)
policy() {
  python3 - "$@" <<'PY'
import json, sys, os
path, n, kind, w, reg = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
scopes = {}
for i in range(n):
    if kind == "shared":
        req = {"type": "signedBy", "keyType": "GPGKeys", "keyPath": f"{w}/vendor.gpg"}
    elif kind == "one":
        req = {"type": "signedBy", "keyType": "GPGKeys", "keyPath": f"{w}/one.gpg"}
    else:
        own = f"{w}/own-{i}.gpg"
        if not os.path.exists(own):
            os.link(f"{w}/own.gpg", own)
        req = {"type": "signedBy", "keyType": "GPGKeys", "keyPaths": [f"{w}/vendor.gpg", own]}
    scopes[f"{reg}/ns/app{i}"] = [req]
json.dump({"default": [{"type": "reject"}], "transports": {"docker": scopes}}, open(path, "w"))
PY
}

run() { # name scopes kind
  local p=$w/$1.json
  policy "$p" "$2" "$3" "$w" "$reg"
  local size
  size=$(stat -c %s "$p")
  /usr/bin/time -f "%e %M" -o "$w/time" "$bin" verify --policy "$p" --identity "$id" \
    --manifest "$w/manifest.json" "$w/signature-1" >/dev/null 2>"$w/err" || { cat "$w/err" >&2; exit 1; }
  read -r secs kb <"$w/time"
  printf '%-34s %7d scopes %8d KB policy %6.2f s %7.1f MB peak RSS\n' "$1" "$2" $((size / 1024)) "$secs" "$(awk -v k="$kb" 'BEGIN {print k / 1024}')"
}

echo "== one verify per policy (whole process)"
run "1 scope x $keys keys" 1 shared
run "1,000 scopes x $keys keys (target)" 1000 shared
run "5,000 scopes x $keys keys" 5000 shared
run "100,000 scopes x 1 key" 100000 one
run "1,000 distinct sets ($keys + own)" 1000 own
