"""The case manifest: what a sealed case holds, and the KMS signature over it.

Layout inside a case folder (see docs/auditor-guide.md):

    manifest/0001.json      the manifest, canonical JSON (sorted keys, no spaces, UTF-8)
    manifest/0001.sig       DER-encoded ECDSA signature over those exact bytes
    manifest/0001.pub.der   the signing key's public key (SubjectPublicKeyInfo, from kms:GetPublicKey)
    manifest/0001.pub.pem   the same key, PEM

A case is sealed again after an approval or an undo: that writes `manifest/0002.json` and so on,
never an overwrite. Each manifest names the one before it by key, version id and sha256.

Signature scheme: KMS asymmetric key ECC_NIST_P256, algorithm ECDSA_SHA_256, MessageType DIGEST over
sha256(manifest bytes). That is byte-for-byte the signature `openssl dgst -sha256 -sign` would make
over the manifest file, so `openssl dgst -sha256 -verify 0001.pub.pem -signature 0001.sig 0001.json`
checks it offline. DIGEST (not RAW) because KMS refuses RAW messages over 4096 bytes, and a case
with a few dozen artifacts has a larger manifest.

This module runs in the Lambda: it only talks to KMS, it does not need the `cryptography` package.
"""

from __future__ import annotations

import base64
import hashlib
import re
import textwrap
from dataclasses import dataclass
from typing import Any

from parry.errors import SigningError

FORMAT = "parry.manifest/v1"
KEY_SPEC = "ECC_NIST_P256"
SIGNING_ALGORITHM = "ECDSA_SHA_256"
MESSAGE_TYPE = "DIGEST"

MANIFEST_DIR = "manifest/"
AUDIT_DIR = "audit/"
AUDIT_RE = re.compile(r"^audit/(\d{4,})\.json$")
MANIFEST_RE = re.compile(r"^manifest/(\d{4,})\.(json|sig|pub\.der|pub\.pem)$")


def manifest_relpath(seq: int) -> str:
    return f"{MANIFEST_DIR}{seq:04d}.json"


def signature_relpath(seq: int) -> str:
    return f"{MANIFEST_DIR}{seq:04d}.sig"


def public_key_relpaths(seq: int) -> tuple[str, str]:
    """(DER, PEM) paths of the public key stored beside manifest `seq`."""
    return f"{MANIFEST_DIR}{seq:04d}.pub.der", f"{MANIFEST_DIR}{seq:04d}.pub.pem"


def audit_relpath(seq: int) -> str:
    return f"{AUDIT_DIR}{seq:04d}.json"


def is_sealed_material(relpath: str) -> bool:
    """Objects a manifest does not list: manifests and their signatures, which are chained instead."""
    return relpath.startswith(MANIFEST_DIR)


def der_to_pem(der: bytes) -> bytes:
    body = "\n".join(textwrap.wrap(base64.b64encode(der).decode(), 64))
    return f"-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n".encode()


@dataclass(frozen=True)
class PublicKey:
    """A KMS signing key's public half, as stored beside each manifest."""

    key_id: str
    der: bytes

    @property
    def pem(self) -> bytes:
        return der_to_pem(self.der)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.der).hexdigest()


def fetch_public_key(kms: Any, key_id: str) -> PublicKey:
    """Read the key's public half and check it is the kind of key Parry signs with."""
    resp = kms.get_public_key(KeyId=key_id)
    spec = resp.get("KeySpec") or resp.get("CustomerMasterKeySpec")
    if spec != KEY_SPEC:
        raise SigningError(f"KMS key {key_id} is {spec}, manifests are signed with an {KEY_SPEC} key")
    if resp.get("KeyUsage") not in (None, "SIGN_VERIFY") or SIGNING_ALGORITHM not in resp.get(
        "SigningAlgorithms", [SIGNING_ALGORITHM]
    ):
        raise SigningError(f"KMS key {key_id} cannot sign with {SIGNING_ALGORITHM}")
    return PublicKey(resp.get("KeyId") or key_id, bytes(resp["PublicKey"]))


def sign(kms: Any, key_id: str, body: bytes) -> tuple[str, bytes]:
    """KMS signature over sha256(body); returns (key ARN that signed, DER signature)."""
    resp = kms.sign(
        KeyId=key_id,
        Message=hashlib.sha256(body).digest(),
        MessageType=MESSAGE_TYPE,
        SigningAlgorithm=SIGNING_ALGORITHM,
    )
    return resp.get("KeyId") or key_id, bytes(resp["Signature"])


def signing_block(public_key: PublicKey | None) -> dict[str, Any] | None:
    """What a manifest says about its own signature (None: unsigned)."""
    if public_key is None:
        return None
    return {
        "key_id": public_key.key_id,
        "key_spec": KEY_SPEC,
        "algorithm": SIGNING_ALGORITHM,
        "message_type": MESSAGE_TYPE,
        "public_key_sha256": public_key.sha256,
    }
