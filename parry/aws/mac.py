"""KMS HMAC: the seal only Parry's control plane can put on a request, and its check.

The request key's policy lets the control-plane role GenerateMac and the runners VerifyMac, so a
runner can tell a request the control plane made from one anybody else wrote; the key material
never leaves KMS (HMAC_256 key spec, HMAC_SHA_256).
"""

from __future__ import annotations

from typing import Any

MAC_ALGORITHM = "HMAC_SHA_256"


def generate_mac(kms: Any, key_id: str, message: bytes) -> bytes:
    """The MAC of `message` under `key_id` (kms:GenerateMac)."""
    mac: bytes = kms.generate_mac(KeyId=key_id, MacAlgorithm=MAC_ALGORITHM, Message=message)["Mac"]
    return mac


def verify_mac(kms: Any, key_id: str, message: bytes, mac: bytes) -> bool:
    """Whether `mac` is `message`'s MAC under `key_id` (kms:VerifyMac); a wrong MAC is False, not an error."""
    try:
        valid: bool = kms.verify_mac(KeyId=key_id, MacAlgorithm=MAC_ALGORITHM, Message=message, Mac=mac)["MacValid"]
    except kms.exceptions.KMSInvalidMacException:
        return False
    return valid
