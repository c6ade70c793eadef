#!/usr/bin/env bash
# P2 on both of sequoia's cryptographic backends in one run: the default
# build (crypto-nettle) and a crypto-openssl build, each verifying the same
# mirrors of N images (default 10,000; gpg-made and imgsig-made RSA-2048
# signatures as in bench/bulk.sh). The two binaries run interleaved in random
# order, ROUNDS rounds (default 7), so that the VM's drift and the other work
# on the machine fall on both alike. Both are release builds in target/
# (the features differ, so cargo keeps both sets of artifacts: only sequoia,
# its two agent crates and imgsig are built twice); each binary is copied
# aside, and the default one is left in target/release.
#   bench/backends.sh [N [ROUNDS]]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
rounds=${2:-7}
scripts/deps --test
work=$(mktemp -d /tmp/imgsig-backends.XXXXXX)
export GNUPGHOME="$work/gnupg"; mkdir -m 700 "$GNUPGHOME"
trap 'gpgconf --kill gpg-agent >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
nettle=$work/imgsig-nettle openssl=$work/imgsig-openssl
cargo build --release --locked --quiet --bin imgsig --no-default-features --features crypto-openssl
cp target/release/imgsig "$openssl"
cargo build --release --locked --quiet --bin imgsig --example gen_mirror
cp target/release/imgsig "$nettle"
ldd "$openssl" | grep -q libcrypto && ! ldd "$nettle" | grep -q libcrypto ||
  { echo "bench/backends.sh: the two builds are not what they should be" >&2; exit 1; }
gpg --batch --pinentry-mode loopback --passphrase '' --quick-gen-key 'bench <bench@imgsig.invalid>' rsa2048 sign never 2>/dev/null
fpr=$(gpg --with-colons --list-keys | awk -F: '/^fpr/{print $10; exit}')
gpg --batch --export-secret-keys "$fpr" > "$work/key.sec"
gpg --batch --export "$fpr" > "$work/key.pub"
target/release/examples/gen_mirror "$work/key.sec" "$work/mirror" "$n"
echo "making the gpg-made corpus ($n gpg --sign runs)…" >&2
bench/gpg-mirror.sh "$fpr" "$work/gmirror" "$n"
printf '{"default":[{"type":"reject"}],"transports":{"docker":{"bench.example":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"%s"}]}}}\n' "$work/key.pub" > "$work/policy.json"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for corpus in gmirror mirror; do
  verify="verify --policy $work/policy.json --lookaside $work/$corpus --from-file $work/$corpus/list.txt"
  for bin in "$nettle" "$openssl"; do # the same verdicts from both
    $bin $verify 2>&1 >/dev/null | grep -q "$n accepted, 0 rejected, 0 could not" ||
      { echo "$bin: not every image was accepted ($corpus)" >&2; exit 1; }
  done
  python3 - "$n" "$rounds" "$corpus" "$nettle $verify" "$openssl $verify" <<'PY'
import os, random, statistics, sys, time
n, rounds, corpus = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
cmds = {"nettle": sys.argv[4].split(), "openssl": sys.argv[5].split()}
devnull = os.open(os.devnull, os.O_WRONLY)
actions = [(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)]
def run(cmd):
    start = time.perf_counter()
    pid = os.posix_spawn(cmd[0], cmd, dict(os.environ), file_actions=actions)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, cmd
    return time.perf_counter() - start
for cmd in cmds.values():  # warm-up: page cache
    run(cmd)
secs = {k: [] for k in cmds}
for _ in range(rounds):
    order = list(cmds)
    random.shuffle(order)
    for k in order:
        secs[k].append(run(cmds[k]))
label = "gpg-made (compressed, SHA-512)" if corpus == "gmirror" else "imgsig-made (uncompressed)"
for k, t in secs.items():
    rates = sorted(n / s for s in t)
    print(f"P2 {label}, {k:7}: median of {rounds} {n / statistics.median(t):,.0f} signatures/s "
          f"({rates[0]:,.0f}-{rates[-1]:,.0f})")
ratio = [a / b for a, b in zip(secs["openssl"], secs["nettle"])]
print(f"   openssl time / nettle time, paired per round: median {statistics.median(ratio):.2f} "
      f"({min(ratio):.2f}-{max(ratio):.2f})")
PY
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
