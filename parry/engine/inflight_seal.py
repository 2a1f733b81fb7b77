"""A MAC on each in-flight record the case table keeps, so a run adopts only one a runner wrote.

Just before a step changes something, the table records what the change replaces and its undo (for
a new case in the claim's own transaction: nothing can be sealed in the evidence bucket before the
containing call without costing a call). A run that finds the change already made adopts that
record as the case's change, undo included. Whoever can write the table could plant one (a
statement put back, a key given back by a later undo), so each record carries an HMAC-SHA256 over
the case, step, before-state and undo, keyed by a key derived from the runners' KMS continuation
key: GenerateMac of a random nonce, once per warm runner, never per case. Only the runner roles may
GenerateMac with that key; the derived key stays in this process's memory.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
from collections.abc import Callable
from typing import Any

from parry.aws.mac import generate_mac

MAC = "mac"  # the record's field: "<nonce>:<hex HMAC-SHA256>"
DERIVATION = b"parry in-flight record key v1\n"  # no continue request's canonical form starts so
NONCE = re.compile(r"[0-9a-f]{32}")
FOREIGN_KEYS_KEPT = 16  # keys derived to check other runners' records, kept while warm


class InflightSeals:
    """Seals in-flight records with `key_id` (the continuation key) and checks them; with no key set,
    nothing is sealed, and no record holds (an interrupted change is then adopted with no undo)."""

    def __init__(self, kms: Callable[[], Any], key_id: str | None):
        self._kms = kms
        self._key_id = key_id
        self._nonce: str | None = None
        self._keys: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def seal(self, case_id: str, record: dict[str, Any]) -> dict[str, Any]:
        """`record` with its MAC (`record` as it is when no key is set)."""
        if not self._key_id:
            return record
        with self._lock:
            if self._nonce is None:
                nonce = secrets.token_hex(16)
                self._keys[nonce] = self._derive(nonce)
                self._nonce = nonce
            nonce = self._nonce
        return {**record, MAC: f"{nonce}:{_mac(self._keys[nonce], case_id, record)}"}

    def holds(self, case_id: str, record: dict[str, Any]) -> bool:
        """Whether a runner sealed `record` for this case (its step, before-state and undo as they are)."""
        nonce, _, mac = str(record.get(MAC, "")).partition(":")
        if not self._key_id or not NONCE.fullmatch(nonce):
            return False
        with self._lock:
            key = self._keys.get(nonce)
        if key is None:
            key = self._derive(nonce)
            with self._lock:
                if len(self._keys) < FOREIGN_KEYS_KEPT:
                    self._keys[nonce] = key
        return hmac.compare_digest(mac, _mac(key, case_id, record))

    def _derive(self, nonce: str) -> bytes:
        assert self._key_id is not None
        return generate_mac(self._kms(), self._key_id, DERIVATION + nonce.encode())


def _mac(key: bytes, case_id: str, record: dict[str, Any]) -> str:
    signed = {
        "case_id": case_id,
        "step": record.get("step"),
        "before": record.get("before"),
        "undo": record.get("undo"),
    }
    message = json.dumps(signed, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
