"""Where moto does work that nothing asks for, and how local mode and the tests skip it.

moto 5.2 makes a key pair for every KMS key it creates: an RSA 2048 pair for a symmetric or HMAC key
too, which never uses it (~50-150 ms a key; `parry local bootstrap` makes two HMAC keys, and every test
that provisions Parry's resources pays for them). Making the pair when a call first needs it answers
every call as before. Local mode and tests only; the Lambda never imports this module.
"""

from __future__ import annotations

from typing import Any


def kms_key_pairs_on_first_use() -> None:
    """Make the in-process moto generate a KMS key's private key when first used, not at CreateKey."""
    from moto.kms import models

    if getattr(models.Key, "parry_pairs_on_first_use", False):
        return
    generate = models.generate_private_key

    def private_key(self: Any) -> Any:
        held = self.__dict__["parry_private_key"]
        if isinstance(held, _Deferred):
            held = self.__dict__["parry_private_key"] = generate(held.key_spec)
        return held

    def set_private_key(self: Any, value: Any) -> None:
        self.__dict__["parry_private_key"] = value

    # what Key.__init__ calls: it now only notes the key spec
    models.generate_private_key = _Deferred  # type: ignore[assignment]
    models.Key.private_key = property(private_key, set_private_key)  # type: ignore[assignment]
    models.Key.parry_pairs_on_first_use = True  # type: ignore[attr-defined]


class _Deferred:
    """A key pair not made yet: the spec to make it from."""

    def __init__(self, key_spec: str):
        self.key_spec = key_spec
