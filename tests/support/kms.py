"""moto 5.2.5 ignores KMS Sign's MessageType and always hashes the message again ("DIGEST is not yet
implemented"). Parry signs with MessageType=DIGEST, as production KMS requires for manifests over
4 KB, so tests and the bench patch moto to sign a DIGEST as KMS does: the 32 bytes are the hash."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock


@contextmanager
def kms_digest_signing() -> Iterator[None]:
    from moto.kms import responses

    from parry.local.corrections import digest_aware_sign

    with mock.patch.object(responses.KmsResponse, "sign", digest_aware_sign(responses.KmsResponse.sign)):
        yield
