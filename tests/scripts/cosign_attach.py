#!/usr/bin/env python3
"""An independent sigstore signer for the tests: makes a cosign-style
signature with Python's `cryptography` (not imgsig's code) and pushes it to a
real registry as cosign lays it out: an OCI manifest at the tag
`sha256-<hex>.sig`, one layer whose blob is the payload and whose annotation
`dev.cosignproject.cosign/signature` is the base64 ECDSA-P256/SHA-256
signature over the payload bytes.

usage: cosign_attach.py REGISTRY REPO DIGEST IDENTITY KEY_OUT.pub
(plain HTTP registry; the generated public key is written as PEM)"""
import base64
import hashlib
import json
import sys
import urllib.request

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

registry, repo, digest, identity, key_out = sys.argv[1:6]
key = ec.generate_private_key(ec.SECP256R1())
with open(key_out, "wb") as f:
    f.write(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))

payload = json.dumps({
    "critical": {
        "identity": {"docker-reference": identity},
        "image": {"docker-manifest-digest": digest},
        "type": "cosign container image signature",
    },
    "optional": None,
}).encode()
signature = key.sign(payload, ec.ECDSA(hashes.SHA256()))
# The checker's own check: the signature verifies with the public key.
key.public_key().verify(signature, payload, ec.ECDSA(hashes.SHA256()))


def upload(data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    r = urllib.request.urlopen(urllib.request.Request(
        f"http://{registry}/v2/{repo}/blobs/uploads/", method="POST"))
    loc = r.headers["Location"]
    if loc.startswith("/"):
        loc = f"http://{registry}{loc}"
    sep = "&" if "?" in loc else "?"
    urllib.request.urlopen(urllib.request.Request(
        f"{loc}{sep}digest={d}", data=data, method="PUT",
        headers={"Content-Type": "application/octet-stream"}))
    return d


config = b"{}"
manifest = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
               "digest": upload(config), "size": len(config)},
    "layers": [{
        "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
        "digest": upload(payload),
        "size": len(payload),
        "annotations": {"dev.cosignproject.cosign/signature": base64.b64encode(signature).decode()},
    }],
}
tag = digest.replace(":", "-") + ".sig"
urllib.request.urlopen(urllib.request.Request(
    f"http://{registry}/v2/{repo}/manifests/{tag}", data=json.dumps(manifest).encode(), method="PUT",
    headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"}))
print(tag)
