#!/usr/bin/env python3
"""An independent checker for sigstore (cosign) keys, signatures and registry
attachments, written from the published formats, not from imgsig's code:

- private keys: go-securesystemslib `encrypted` JSON (scrypt KDF +
  nacl/secretbox over a PKCS #8 DER key) in a PEM block `ENCRYPTED COSIGN
  PRIVATE KEY` (cosign generate-key-pair) or `ENCRYPTED SIGSTORE PRIVATE KEY`
  (skopeo generate-sigstore-key, containers/image sigstore.GenerateKeyPair);
- payloads: cosign SIGNATURE_SPEC "simple signing" JSON, signed over its bytes
  (ECDSA ASN.1/SHA-256, Ed25519, RSA PKCS #1 v1.5/SHA-256), as Go's
  json.Marshal writes it (containers/image, cosign);
- containers/image's typed blob (`\\x00sigstore-json\\n` + JSON) of dir: images;
- attachments: cosign's `sha256-<hex>.sig` tag holding an OCI image manifest
  (image-spec manifest.md, config.md) whose layers are the payloads.

usage:
  sigstore_check.py decrypt-key PRIVATE_KEY_FILE PASSPHRASE_FILE PUBLIC_PEM_FILE [--any-kdf-level]
  sigstore_check.py verify-blob PUBLIC_PEM_FILE BLOB_FILE DIGEST IDENTITY
  sigstore_check.py check-attachment REGISTRY REPO DIGEST PUBLIC_PEM_FILE IDENTITY [--expect-layers N]
  sigstore_check.py make-key PRIVATE_OUT PUBLIC_OUT PASSPHRASE_FILE [--type TYPE]
  sigstore_check.py sign-blob PRIVATE_KEY_FILE PASSPHRASE_FILE DIGEST IDENTITY BLOB_OUT

A PASSPHRASE_FILE holds the passphrase as-is, except that one trailing "\\n" is
stripped. decrypt-key insists on scrypt N=32768 r=8 p=1 (go-securesystemslib
"Legacy", Encrypt's default up to v0.9.x, which containers/image vendors);
with --any-kdf-level it takes any set go-securesystemslib's Decrypt accepts:
also "Standard" N=65536 (Encrypt's default since v0.10.0, so newer cosign's)
and "OWASP" N=131072. REGISTRY is host:port, plain HTTP, anonymous.
Exit 0: all checks pass; 1: a check failed (one-line reason on stderr);
make-key writes an ECDSA P-256 key (what cosign generate-key-pair makes)
unless --type says p384, ed25519 or rsa-BITS (e.g. rsa-2048), the other key
types cosign import-key-pair and containers/image sign with. sign-blob signs
a payload for DIGEST and IDENTITY with a make-key key, as containers/image's
sigstore signer does, and writes the typed blob.
2: usage or environment error.
"""
import base64
import binascii
import hashlib
import json
import os
import re
import sys
import urllib.error
import urllib.request

try:
    import nacl.exceptions
    import nacl.secret
except ImportError:  # e.g. a pyenv python3 first on PATH: use Debian's, which has python3-nacl
    if os.path.exists("/usr/bin/python3") and not os.environ.get("SIGSTORE_CHECK_REEXEC"):
        os.environ["SIGSTORE_CHECK_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3", os.path.abspath(__file__)] + sys.argv[1:])
    print("sigstore_check: PyNaCl is missing (apt-get install python3-nacl)", file=sys.stderr)
    sys.exit(2)
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

KEY_PEM_TYPES = ("ENCRYPTED COSIGN PRIVATE KEY", "ENCRYPTED SIGSTORE PRIVATE KEY")
SCRYPT_N, SCRYPT_R, SCRYPT_P = 32768, 8, 1  # go-securesystemslib encrypted "Legacy" (Encrypt's default to v0.9.x)
KDF_LEVELS = {(32768, 8, 1): "Legacy", (65536, 8, 1): "Standard", (131072, 8, 1): "OWASP"}  # all Decrypt accepts
BLOB_PREFIX = b"\x00sigstore-json\n"
SIMPLESIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
SIG_ANNOTATION = "dev.cosignproject.cosign/signature"
PAYLOAD_TYPE = "cosign container image signature"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"


class Fail(Exception):
    pass


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise Fail(f"cannot read {path}: {e.strerror}")


def passphrase(path):
    p = read(path)
    return p[:-1] if p.endswith(b"\n") else p


def scrypt(pw, salt, n, r, p):  # only ever called with the parameters checked against KDF_LEVELS
    return hashlib.scrypt(pw, salt=salt, n=n, r=r, p=p, maxmem=128 * r * (n + p + 2) + (16 << 20), dklen=32)


def pem_decode(data, what):
    """Exactly one PEM block, no headers, nothing but whitespace around it."""
    m = re.fullmatch(rb"\s*-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]*?)\r?\n?-----END \1-----\s*",
                     data)
    if not m:
        raise Fail(f"{what}: not exactly one PEM block without headers")
    body = re.sub(rb"\s", b"", m.group(2))
    try:
        return m.group(1).decode(), base64.b64decode(body, validate=True)
    except binascii.Error as e:
        raise Fail(f"{what}: bad PEM base64: {e}")


def pem_encode(kind, der):  # as Go's pem.Encode: 64-column lines, no headers
    b = base64.b64encode(der).decode()
    lines = "".join(b[i:i + 64] + "\n" for i in range(0, len(b), 64))
    return f"-----BEGIN {kind}-----\n{lines}-----END {kind}-----\n".encode()


def b64(s, what):
    """Go []byte in JSON: standard base64, padded; also insist on the canonical form."""
    if not isinstance(s, str):
        raise Fail(f"{what}: not a JSON string")
    try:
        raw = base64.b64decode(s, validate=True)
    except binascii.Error as e:
        raise Fail(f"{what}: bad base64: {e}")
    if base64.b64encode(raw).decode() != s:
        raise Fail(f"{what}: non-canonical base64")
    return raw


def strict_json(data, what):
    def no_dups(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise Fail(f"{what}: duplicate JSON key")
        return dict(pairs)

    def no_const(c):
        raise Fail(f"{what}: {c} is not JSON")
    try:
        return json.loads(data.decode("utf-8"), object_pairs_hook=no_dups, parse_constant=no_const)
    except UnicodeDecodeError:
        raise Fail(f"{what}: not UTF-8")
    except json.JSONDecodeError as e:
        raise Fail(f"{what}: not JSON: {e}")


def go_json(obj, sort_keys=True):
    """What Go's json.Marshal writes (maps sorted, no spaces, raw UTF-8, HTML-safe escapes)."""
    s = json.dumps(obj, sort_keys=sort_keys, separators=(",", ":"), ensure_ascii=False)
    for c, e in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        s = s.replace(c, e)
    try:
        return s.encode("utf-8")
    except UnicodeEncodeError:
        raise Fail("JSON holds a lone surrogate")


def keys_exactly(obj, want, what):
    if not isinstance(obj, dict):
        raise Fail(f"{what}: not a JSON object")
    if set(obj) != set(want):
        raise Fail(f"{what}: keys {sorted(obj)}, want exactly {sorted(want)}")


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def key_type(k):
    if isinstance(k, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        return {"secp256r1": "ECDSA P-256", "secp384r1": "ECDSA P-384"}.get(k.curve.name, f"ECDSA {k.curve.name}")
    if isinstance(k, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return "Ed25519"
    if isinstance(k, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        return f"RSA {k.key_size}"
    return type(k).__name__


def load_public(path):
    kind, der = pem_decode(read(path), path)
    if kind != "PUBLIC KEY":
        raise Fail(f"{path}: PEM type {kind!r}, want 'PUBLIC KEY'")
    try:
        return serialization.load_der_public_key(der), der
    except ValueError as e:
        raise Fail(f"{path}: not an SPKI public key: {e}")


def is_pkcs8(der):
    """PrivateKeyInfo ::= SEQUENCE { INTEGER 0, AlgorithmIdentifier SEQUENCE, OCTET STRING, ... }"""
    def tlv(i):
        tag, n = der[i], der[i + 1]
        i += 2
        if n & 0x80:
            n, i = int.from_bytes(der[i:i + (n & 0x7F)], "big"), i + (n & 0x7F)
        return tag, i, i + n
    try:
        tag, i, end = tlv(0)
        t1, s1, e1 = tlv(i)
        t2, _, e2 = tlv(e1)
        t3, _, _ = tlv(e2)
        return tag == 0x30 and end == len(der) and t1 == 0x02 and der[s1:e1] == b"\x00" and t2 == 0x30 and t3 == 0x04
    except IndexError:
        return False


def cmd_decrypt_key(key_file, pass_file, pub_file, any_kdf_level=False):
    kind, body = pem_decode(read(key_file), key_file)
    if kind not in KEY_PEM_TYPES:
        raise Fail(f"{key_file}: PEM type {kind!r}, want one of {KEY_PEM_TYPES}")
    print(f"pem-type: {kind}")
    doc = strict_json(body, "encrypted key")
    keys_exactly(doc, ["kdf", "cipher", "ciphertext"], "encrypted key")
    kdf, cipher = doc["kdf"], doc["cipher"]
    keys_exactly(kdf, ["name", "params", "salt"], "kdf")
    keys_exactly(kdf["params"], ["N", "r", "p"], "kdf.params")
    keys_exactly(cipher, ["name", "nonce"], "cipher")
    if kdf["name"] != "scrypt":
        raise Fail(f"kdf.name {kdf['name']!r}, want 'scrypt'")
    if cipher["name"] != "nacl/secretbox":
        raise Fail(f"cipher.name {cipher['name']!r}, want 'nacl/secretbox'")
    n, r, p = (kdf["params"][k] for k in ("N", "r", "p"))
    level = KDF_LEVELS.get((n, r, p)) if all(is_int(v) for v in (n, r, p)) else None
    print(f"scrypt: N={n} r={r} p={p} ({level or 'not a go-securesystemslib level'})")
    if level is None or (level != "Legacy" and not any_kdf_level):
        raise Fail(f"scrypt params N={n} r={r} p={p}, want N={SCRYPT_N} r={SCRYPT_R} p={SCRYPT_P}"
                   + ("" if level else " (go-securesystemslib Decrypt would refuse them too)"))
    salt, nonce = b64(kdf["salt"], "kdf.salt"), b64(cipher["nonce"], "cipher.nonce")
    if len(salt) != 32:
        raise Fail(f"salt is {len(salt)} bytes, want 32")
    if len(nonce) != 24:
        raise Fail(f"nonce is {len(nonce)} bytes, want 24")
    ciphertext = b64(doc["ciphertext"], "ciphertext")
    go = go_json({"kdf": {"name": "scrypt", "params": {"N": n, "r": r, "p": p}, "salt": kdf["salt"]},
                  "cipher": {"name": "nacl/secretbox", "nonce": cipher["nonce"]},
                  "ciphertext": doc["ciphertext"]}, sort_keys=False)
    print(f"json-layout: {'as Go encoding/json writes it' if go == body else 'differs from Go encoding/json (accepted)'}")
    key = scrypt(passphrase(pass_file), salt, n, r, p)
    try:
        der = nacl.secret.SecretBox(key).decrypt(ciphertext, nonce)
    except nacl.exceptions.CryptoError:
        raise Fail("wrong passphrase (or corrupted key): nacl/secretbox authentication failed")
    if not is_pkcs8(der):
        raise Fail("decrypted key is not PKCS #8 DER")
    try:
        priv = serialization.load_der_private_key(der, password=None)
    except (ValueError, TypeError) as e:
        raise Fail(f"decrypted key does not load as PKCS #8: {e}")
    pub, pub_der = load_public(pub_file)
    mine = priv.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if mine != pub_der:
        raise Fail(f"{pub_file} is not the public key of the decrypted private key")
    print(f"key-type: {key_type(priv)}")


def verify_signature(pub, sig, payload):
    try:
        if isinstance(pub, ec.EllipticCurvePublicKey):
            if pub.curve.name not in ("secp256r1", "secp384r1"):
                raise Fail(f"unsupported curve {pub.curve.name}")
            pub.verify(sig, payload, ec.ECDSA(hashes.SHA256()))
        elif isinstance(pub, ed25519.Ed25519PublicKey):
            pub.verify(sig, payload)
        elif isinstance(pub, rsa.RSAPublicKey):
            pub.verify(sig, payload, padding.PKCS1v15(), hashes.SHA256())
        else:
            raise Fail(f"unsupported public key type {key_type(pub)}")
    except InvalidSignature:
        raise Fail(f"signature does not verify with the {key_type(pub)} key")


def check_payload(payload, digest, identity):
    """cosign SIGNATURE_SPEC simple signing, exactly; returns lines to print."""
    obj = strict_json(payload, "payload")
    keys_exactly(obj, ["critical", "optional"], "payload")
    crit, opt = obj["critical"], obj["optional"]
    keys_exactly(crit, ["identity", "image", "type"], "critical")
    if crit["identity"] != {"docker-reference": identity}:
        raise Fail(f"critical.identity {json.dumps(crit['identity'])}, want {{\"docker-reference\": {json.dumps(identity)}}}")
    if crit["image"] != {"docker-manifest-digest": digest}:
        raise Fail(f"critical.image {json.dumps(crit['image'])}, want {{\"docker-manifest-digest\": {json.dumps(digest)}}}")
    if crit["type"] != PAYLOAD_TYPE:
        raise Fail(f"critical.type {json.dumps(crit['type'])}, want {json.dumps(PAYLOAD_TYPE)}")
    out = []
    if opt is None:
        out.append("optional: null")
    else:
        if not isinstance(opt, dict) or not set(opt) <= {"creator", "timestamp"}:
            raise Fail(f"optional: {json.dumps(opt)[:80]}, want null or an object with only creator, timestamp")
        if "creator" in opt and not isinstance(opt["creator"], str):
            raise Fail("optional.creator is not a string")
        if "timestamp" in opt and not is_int(opt["timestamp"]):
            raise Fail(f"optional.timestamp {json.dumps(opt['timestamp'])} is not an integer")
        out += [f"optional.{k}: {json.dumps(opt[k])}" for k in sorted(opt)] or ["optional: {}"]
    want = go_json(obj)
    if want != payload:
        i = next((i for i, (a, b) in enumerate(zip(payload, want)) if a != b), min(len(payload), len(want)))
        raise Fail(f"payload bytes differ from Go's json.Marshal at byte {i}: {payload[i:i + 24]!r} vs {want[i:i + 24]!r}")
    return out


def cmd_verify_blob(pub_file, blob_file, digest, identity):
    pub, _ = load_public(pub_file)
    blob = read(blob_file)
    if not blob.startswith(BLOB_PREFIX):
        raise Fail(f"{blob_file}: does not start with {BLOB_PREFIX!r}")
    body = blob[len(BLOB_PREFIX):]
    doc = strict_json(body, "blob")
    keys_exactly(doc, ["mimeType", "payload", "annotations"], "blob")
    if doc["mimeType"] != SIMPLESIGNING:
        raise Fail(f"mimeType {doc['mimeType']!r}, want {SIMPLESIGNING!r}")
    ann = doc["annotations"]
    if not isinstance(ann, dict) or not all(isinstance(v, str) for v in ann.values()):
        raise Fail("annotations: not a map of strings")
    if SIG_ANNOTATION not in ann:
        raise Fail(f"annotations: no {SIG_ANNOTATION}")
    for k in sorted(ann):
        if k != SIG_ANNOTATION:
            print(f"other-annotation: {k}")
    payload = b64(doc["payload"], "payload")
    verify_signature(pub, b64(ann[SIG_ANNOTATION], SIG_ANNOTATION), payload)
    print(f"signature: verified ({key_type(pub)})")
    for line in check_payload(payload, digest, identity):
        print(line)
    go = go_json({"mimeType": doc["mimeType"], "payload": doc["payload"],
                  "annotations": dict(sorted(ann.items()))}, sort_keys=False)  # struct order; a map sorted
    print(f"blob-json-layout: {'as Go encoding/json writes it' if go == body else 'differs from Go encoding/json (accepted)'}")


def http_get(url, accept=None):
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.read(), r.headers
    except urllib.error.HTTPError as e:
        raise Fail(f"GET {url}: HTTP {e.code}")
    except (urllib.error.URLError, OSError) as e:
        raise Fail(f"GET {url}: {e}")


def descriptor(d, media_type, what):
    if not isinstance(d, dict) or d.get("mediaType") != media_type:
        raise Fail(f"{what}: mediaType {d.get('mediaType') if isinstance(d, dict) else d!r}, want {media_type!r}")
    if not isinstance(d.get("digest"), str) or not re.fullmatch(r"sha256:[0-9a-f]{64}", d["digest"]):
        raise Fail(f"{what}: digest {d.get('digest')!r} is not sha256:<64 hex>")
    if not is_int(d.get("size")) or d["size"] < 0:
        raise Fail(f"{what}: size {d.get('size')!r} is not a non-negative integer")


def fetch_blob(base, d, what):
    data, _ = http_get(f"{base}/blobs/{d['digest']}")
    if "sha256:" + hashlib.sha256(data).hexdigest() != d["digest"]:
        raise Fail(f"{what}: blob's sha256 is not its descriptor's digest {d['digest']}")
    if len(data) != d["size"]:
        raise Fail(f"{what}: blob is {len(data)} bytes, descriptor says {d['size']}")
    return data


def cmd_check_attachment(registry, repo, digest, pub_file, identity, expect_layers=None):
    pub, _ = load_public(pub_file)
    base = f"http://{registry}/v2/{repo}"
    tag = digest.replace(":", "-") + ".sig"
    raw, headers = http_get(f"{base}/manifests/{tag}", OCI_MANIFEST)
    ctype = (headers.get("Content-Type") or "").split(";")[0].strip()
    if ctype != OCI_MANIFEST:
        raise Fail(f"manifest {tag}: Content-Type {ctype!r}, want {OCI_MANIFEST!r}")
    served = headers.get("Docker-Content-Digest")
    if served and served != "sha256:" + hashlib.sha256(raw).hexdigest():
        raise Fail(f"manifest {tag}: Docker-Content-Digest {served} is not the sha256 of the bytes served")
    man = strict_json(raw, f"manifest {tag}")
    if not isinstance(man, dict) or man.get("mediaType") != OCI_MANIFEST:
        raise Fail(f"manifest {tag}: mediaType {man.get('mediaType') if isinstance(man, dict) else None!r}, want {OCI_MANIFEST!r}")
    if not is_int(man.get("schemaVersion")) or man["schemaVersion"] != 2:
        raise Fail(f"manifest {tag}: schemaVersion {man.get('schemaVersion')!r}, want 2")
    descriptor(man.get("config"), OCI_CONFIG, "config")
    layers = man.get("layers")
    if not isinstance(layers, list) or not layers:
        raise Fail(f"manifest {tag}: no layers")
    print(f"manifest: {tag}, {len(layers)} layer(s)")
    if expect_layers is not None and len(layers) != expect_layers:
        raise Fail(f"manifest {tag}: {len(layers)} layer(s), expected exactly {expect_layers}")
    for i, layer in enumerate(layers):
        descriptor(layer, SIMPLESIGNING, f"layer {i}")
    problems = []  # reported at the end, after every layer has been looked at
    try:
        check_config(fetch_blob(base, man["config"], "config"), layers)
    except Fail as e:
        problems.append(str(e))
    verified = 0
    for i, layer in enumerate(layers):
        try:
            data = fetch_blob(base, layer, f"layer {i}")
            ann = layer.get("annotations")
            if not isinstance(ann, dict) or not all(isinstance(v, str) for v in ann.values()):
                raise Fail(f"layer {i}: annotations are not a map of strings")
            if SIG_ANNOTATION not in ann:
                raise Fail(f"layer {i}: no {SIG_ANNOTATION} annotation")
        except Fail as e:
            problems.append(str(e))
            print(f"layer {i} {layer['digest']} verified: no ({e})")
            continue
        try:
            verify_signature(pub, b64(ann[SIG_ANNOTATION], f"layer {i} signature"), data)
            info = check_payload(data, digest, identity)
            verified += 1
            print(f"layer {i} {layer['digest']} verified: yes ({'; '.join(info)})")
        except Fail as e:
            print(f"layer {i} {layer['digest']} verified: no ({e})")
    if problems:
        raise Fail(problems[0] + (f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""))
    if not verified:
        raise Fail(f"none of the {len(layers)} layer(s) verifies with {pub_file} for {digest} as {identity}")


def check_config(raw, layers):
    cfg = strict_json(raw, "config")
    if not isinstance(cfg, dict):
        raise Fail("config: not a JSON object")
    rootfs = cfg.get("rootfs")
    if not isinstance(rootfs, dict) or rootfs.get("type") != "layers":
        raise Fail(f"config: rootfs {json.dumps(rootfs)}, want type 'layers'")
    if rootfs.get("diff_ids") != [l["digest"] for l in layers]:
        raise Fail("config: rootfs.diff_ids is not the layer digests in order")
    for k in ("architecture", "os"):  # REQUIRED by the OCI image config spec (cosign, containers/image write "")
        if not isinstance(cfg.get(k), str):
            raise Fail(f"config: no string {k!r} (required by the OCI image config)")


def new_key(kind):
    if kind == "p256":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "p384":
        return ec.generate_private_key(ec.SECP384R1())
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    m = re.fullmatch(r"rsa-([0-9]{4,5})", kind)
    if m:
        return rsa.generate_private_key(public_exponent=65537, key_size=int(m.group(1)))
    raise Fail(f"unknown key type {kind!r} (p256, p384, ed25519, rsa-BITS)")


def cmd_make_key(priv_out, pub_out, pass_file, kind="p256"):
    key = new_key(kind)
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    salt, nonce = os.urandom(32), os.urandom(24)
    k = scrypt(passphrase(pass_file), salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    ct = nacl.secret.SecretBox(k).encrypt(der, nonce).ciphertext  # tag || ciphertext, as Go's secretbox.Seal
    e = lambda b: base64.b64encode(b).decode()
    doc = {"kdf": {"name": "scrypt", "params": {"N": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P}, "salt": e(salt)},
           "cipher": {"name": "nacl/secretbox", "nonce": e(nonce)}, "ciphertext": e(ct)}
    fd = os.open(priv_out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem_encode("ENCRYPTED SIGSTORE PRIVATE KEY", go_json(doc, sort_keys=False)))
    with open(pub_out, "wb") as f:
        f.write(pem_encode("PUBLIC KEY", key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)))
    print(f"key-type: {key_type(key)}")


def sign_payload(priv, payload):  # sigstore LoadSignerVerifier(key, SHA256): as verify_signature checks
    if isinstance(priv, ec.EllipticCurvePrivateKey):
        return priv.sign(payload, ec.ECDSA(hashes.SHA256()))
    if isinstance(priv, ed25519.Ed25519PrivateKey):
        return priv.sign(payload)
    if isinstance(priv, rsa.RSAPrivateKey):
        return priv.sign(payload, padding.PKCS1v15(), hashes.SHA256())
    raise Fail(f"unsupported private key type {key_type(priv)}")


def cmd_sign_blob(key_file, pass_file, digest, identity, blob_out):
    kind, body = pem_decode(read(key_file), key_file)
    if kind not in KEY_PEM_TYPES:
        raise Fail(f"{key_file}: PEM type {kind!r}, want one of {KEY_PEM_TYPES}")
    doc = strict_json(body, "encrypted key")
    kdf, cipher = doc["kdf"], doc["cipher"]
    n, r, p = (kdf["params"][k] for k in ("N", "r", "p"))
    if (n, r, p) not in KDF_LEVELS:
        raise Fail(f"scrypt params N={n} r={r} p={p} are not a go-securesystemslib level")
    key = scrypt(passphrase(pass_file), b64(kdf["salt"], "kdf.salt"), n, r, p)
    try:
        der = nacl.secret.SecretBox(key).decrypt(b64(doc["ciphertext"], "ciphertext"), b64(cipher["nonce"], "nonce"))
    except nacl.exceptions.CryptoError:
        raise Fail("wrong passphrase (or corrupted key): nacl/secretbox authentication failed")
    priv = serialization.load_der_private_key(der, password=None)
    payload = go_json({"critical": {"identity": {"docker-reference": identity},
                                    "image": {"docker-manifest-digest": digest}, "type": PAYLOAD_TYPE},
                       "optional": None})
    sig = base64.b64encode(sign_payload(priv, payload)).decode()
    blob = go_json({"mimeType": SIMPLESIGNING, "payload": base64.b64encode(payload).decode(),
                    "annotations": {SIG_ANNOTATION: sig}}, sort_keys=False)
    with open(blob_out, "wb") as f:
        f.write(BLOB_PREFIX + blob)
    print(f"signed: {key_type(priv)}")


COMMANDS = {"decrypt-key": (cmd_decrypt_key, 3), "verify-blob": (cmd_verify_blob, 4),
            "check-attachment": (cmd_check_attachment, 5), "make-key": (cmd_make_key, 3),
            "sign-blob": (cmd_sign_blob, 5)}


def usage(msg):
    print(f"sigstore_check: {msg}\n" + __doc__[__doc__.index("usage:"):__doc__.index("\n\n", __doc__.index("usage:"))],
          file=sys.stderr)
    sys.exit(2)


def main(argv):
    if not argv or argv[0] not in COMMANDS:
        usage("no such subcommand" if argv else "a subcommand is needed")
    name, args = argv[0], argv[1:]
    fn, nargs = COMMANDS[name]
    extra = []
    if name == "decrypt-key" and "--any-kdf-level" in args:
        extra, args = [True], [a for a in args if a != "--any-kdf-level"]
    if name == "make-key" and "--type" in args:
        i = args.index("--type")
        if i + 1 >= len(args):
            usage("--type needs a key type")
        extra, args = [args[i + 1]], args[:i] + args[i + 2:]
    if name == "check-attachment" and "--expect-layers" in args:
        i = args.index("--expect-layers")
        if i + 1 >= len(args) or not args[i + 1].isdigit():
            usage("--expect-layers needs a number")
        extra, args = [int(args[i + 1])], args[:i] + args[i + 2:]
    if len(args) != nargs:
        usage(f"{name} takes {nargs} arguments, got {len(args)}")
    if name == "check-attachment" and not re.fullmatch(r"sha256:[0-9a-f]{64}", args[2]):
        usage(f"DIGEST {args[2]!r} is not sha256:<64 hex>")
    try:
        fn(*args, *extra)
    except Fail as e:
        print(f"sigstore_check: {name}: FAIL: {e}", file=sys.stderr)
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main(sys.argv[1:])
