"""Manifest signing keys on the auditor's side: the keys they pin, and checking a signature offline.

A key is known by the sha256 of its DER SubjectPublicKeyInfo, the fingerprint each manifest names.
`cryptography` is imported only when a key is used: the Lambda signs through KMS and never needs it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from parry.errors import VerifyError
from parry.evidence.writer import sha256_hex

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

PUBLIC_KEY_ENV = "PARRY_EVIDENCE_PUBLIC_KEY"  # key files, separated by os.pathsep
# The one documented way to pin: the key ARN the stack outputs (an ARN, unlike an alias, cannot be re-pointed).
PIN_HINT = (
    "pin it with --key-id <the stack's SigningKeyArn output> (or PARRY_SIGNING_KEY_ID), "
    "or --public-key FILE holding that key's public half"
)


def _load_key(data: bytes) -> PublicKeyTypes:
    from cryptography.hazmat.primitives import serialization

    if data.lstrip().startswith(b"-----BEGIN"):
        return serialization.load_pem_public_key(data)
    return serialization.load_der_public_key(data)


def _der(key: PublicKeyTypes) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_public_keys(paths: Iterable[str | Path]) -> set[str]:
    """sha256 fingerprints (of the DER SubjectPublicKeyInfo) of PEM or DER public key files."""
    out = set()
    for path in paths:
        try:
            out.add(sha256_hex(_der(_load_key(Path(path).read_bytes()))))
        except OSError as exc:
            raise VerifyError(f"{path}: cannot read public key: {exc.strerror}") from exc
        except ValueError as exc:
            raise VerifyError(f"{path}: not a PEM or DER public key") from exc
    return out


def env_public_keys() -> list[str]:
    """The key files PARRY_EVIDENCE_PUBLIC_KEY names (the default of --public-key)."""
    value = os.environ.get(PUBLIC_KEY_ENV, "")
    return [p for p in value.split(os.pathsep) if p]


def signature_valid(der: bytes, signature: bytes, body: bytes) -> bool:
    """Whether `signature` is the ECDSA P-256/SHA-256 signature of `body` by the DER public key;
    ValueError when `der` is no public key at all."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = _load_key(der)
    if not isinstance(key, ec.EllipticCurvePublicKey):
        return False
    try:
        key.verify(signature, body, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True
