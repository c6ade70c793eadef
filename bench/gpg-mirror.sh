#!/usr/bin/env bash
# A mirror of N images whose signatures were made by gpg, as skopeo, podman
# and atomic make them (gpg --sign: a ZIP-compressed packet of indeterminate
# length around one-pass signature + literal + signature), with SHA-512.
#   bench/gpg-mirror.sh KEYSPEC OUTDIR N
# KEYSPEC is a key in $GNUPGHOME (fingerprint). The manifests and the list come
# from examples/gen_mirror (which also writes imgsig-made signatures); every
# signature-1 is then replaced by gpg's. Each message is distinct (distinct
# manifests), so no verification cache can help.
set -euo pipefail
key=$1 out=$2 n=$3
here=$(cd "$(dirname "$0")/.." && pwd)
gpg --batch --export-secret-keys "$key" > "$out.sec"
"$here/target/release/examples/gen_mirror" "$out.sec" "$out" "$n"
rm -f "$out.sec"
export key
find "$out" -name manifest.json -printf '%h\n' | xargs -P "$(nproc)" -n 200 bash -c '
for d in "$@"; do
  repo=${d#'"$out"'/}; repo=${repo%@sha256=*}; hex=${d##*@sha256=}
  printf "{\"critical\":{\"identity\":{\"docker-reference\":\"bench.example/%s:latest\"},\"image\":{\"docker-manifest-digest\":\"sha256:%s\"},\"type\":\"atomic container signature\"},\"optional\":{\"creator\":\"gpg-mirror\",\"timestamp\":1700000000}}" "$repo" "$hex" |
    gpg --batch --yes --quiet --digest-algo SHA512 -u "$key" --sign > "$d/signature-1"
done' _
