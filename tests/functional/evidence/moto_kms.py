"""moto 5.2.5 ignores KMS Sign's MessageType and always hashes the message again ("DIGEST is not yet
implemented"). Parry signs with MessageType=DIGEST, as production KMS requires for manifests over
4 KB, so tests and the bench patch moto to sign a DIGEST as KMS does: the 32 bytes are the hash."""

from __future__ import annotations

import base64
import json
from contextlib import contextmanager
from typing import Iterator
from unittest import mock


@contextmanager
def kms_digest_signing() -> Iterator[None]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, utils
    from moto.kms import responses
    from moto.kms.exceptions import ValidationException

    original = responses.KmsResponse.sign

    def sign(self: responses.KmsResponse) -> str:
        if self._get_param("MessageType") != "DIGEST":
            return original(self)
        key = self.kms_backend.describe_key(self._get_param("KeyId"))
        algorithm = self._get_param("SigningAlgorithm")
        digest = self._get_param("Message")
        if algorithm != "ECDSA_SHA_256" or len(digest) != 32:
            raise ValidationException("DIGEST signing here supports ECDSA_SHA_256 over a 32-byte digest only")
        signature = key.private_key.private_key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        return json.dumps({"KeyId": key.arn, "Signature": base64.b64encode(signature).decode(), "SigningAlgorithm": algorithm})

    with mock.patch.object(responses.KmsResponse, "sign", sign):
        yield
