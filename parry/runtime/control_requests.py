"""Sealed control requests: the only form in which a person's request reaches a runner.

The front door (parry.runtime.front_door) makes a `ControlRequest` for a caller AWS verified and
seals it with a MAC from the request key, which only the control-plane role may GenerateMac with; a
runner continuing its own case near its deadline seals a `continue` with the continuation key,
which only the runners may use. `open_request` is the runner's check: whatever is not sealed, is
sealed by the wrong key for its kind, has expired, or names another playbook is a ForgedRequest.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from parry.aws.mac import generate_mac, verify_mac
from parry.errors import ForgedRequest

WIRE_KEY = "parry_control"
KINDS = frozenset({"start", "approve", "deny", "undo", "resume", "continue"})
REQUEST_KEY = "request"  # the control plane's key: every kind but `continue`
CONTINUATION_KEY = "continuation"  # the runners' own key: `continue` only
LIFETIME_SECONDS = 300
CLOCK_SKEW_SECONDS = 30


@dataclass(frozen=True)
class ControlRequest:
    """What a verified person (or a runner, for `continue`) asks a playbook's runner to do."""

    kind: str
    playbook: str
    requested_by: str
    issued_at: float
    expires_at: float
    nonce: str = field(default_factory=lambda: uuid.uuid4().hex)
    case_id: str | None = None
    finding_id: str | None = None
    target: dict[str, str] | None = None
    gate: str | None = None
    step_id: str | None = None
    playbook_sha256: str | None = None
    reason: str = ""
    partial: bool = False
    new_case: bool = False  # a start: open a fresh case even where a closed case holds the key

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ForgedRequest(f"unknown control request kind {self.kind!r}")
        if not (isinstance(self.playbook, str) and self.playbook and isinstance(self.requested_by, str)):
            raise ForgedRequest("a control request names its playbook and requester")
        for name in ("nonce", "case_id", "finding_id", "gate", "step_id", "playbook_sha256", "reason"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ForgedRequest(f"control request field {name} must be a string")
        if self.target is not None and not (
            isinstance(self.target, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in self.target.items())
        ):
            raise ForgedRequest("a control request's target maps names to strings")
        for name in ("issued_at", "expires_at"):
            if isinstance(getattr(self, name), bool) or not isinstance(getattr(self, name), (int, float)):
                raise ForgedRequest(f"control request field {name} must be a time in epoch seconds")
        if not (isinstance(self.partial, bool) and isinstance(self.new_case, bool)):
            raise ForgedRequest("control request flags partial and new_case must be booleans")

    @classmethod
    def issue(cls, kind: str, playbook: str, requested_by: str, now: float, **values: Any) -> ControlRequest:
        """A new request, valid for LIFETIME_SECONDS from `now`, with a fresh nonce."""
        return cls(kind, playbook, requested_by, issued_at=now, expires_at=now + LIFETIME_SECONDS, **values)

    def canonical(self) -> bytes:
        """The bytes the MAC covers: every field, keys sorted, no whitespace."""
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":")).encode()


def seal(request: ControlRequest, kms: Any, key_id: str, key: str = REQUEST_KEY) -> dict[str, Any]:
    """The Lambda invoke payload carrying `request` and its MAC under `key_id` (named `key`)."""
    mac = generate_mac(kms, key_id, request.canonical())
    return {WIRE_KEY: {"request": asdict(request), "mac": base64.b64encode(mac).decode(), "key": key}}


def is_sealed(payload: Any) -> bool:
    """Whether `payload` claims to be a control request (it still has to pass `open_request`)."""
    return isinstance(payload, dict) and WIRE_KEY in payload


def open_request(payload: Any, kms: Any, keys: Mapping[str, str | None], now: float, playbook: str) -> ControlRequest:
    """The request `payload` carries, verified for this runner's `playbook` at `now`; ForgedRequest otherwise."""
    wire = payload.get(WIRE_KEY) if isinstance(payload, dict) else None
    if not isinstance(wire, dict) or set(wire) != {"request", "mac", "key"}:
        raise ForgedRequest("not a sealed control request")
    key_name, body = wire["key"], wire["request"]
    key_id = keys.get(key_name) if isinstance(key_name, str) else None
    if not key_id:
        raise ForgedRequest(f"sealed with an unknown key {str(key_name)[:40]!r}")
    if not isinstance(body, dict) or not set(body) <= {f.name for f in fields(ControlRequest)}:
        raise ForgedRequest("the sealed request has fields a control request does not")
    try:
        request = ControlRequest(**body)
        mac = base64.b64decode(wire["mac"], validate=True) if isinstance(wire["mac"], str) else b""
    except (TypeError, binascii.Error) as exc:
        raise ForgedRequest(f"malformed control request: {exc}") from exc
    if not mac or not verify_mac(kms, key_id, request.canonical(), mac):
        raise ForgedRequest(f"the MAC does not verify under the {key_name} key")
    if (key_name == CONTINUATION_KEY) != (request.kind == "continue"):
        raise ForgedRequest(f"a {request.kind} request sealed with the {key_name} key")
    if request.expires_at - request.issued_at > LIFETIME_SECONDS or request.issued_at > now + CLOCK_SKEW_SECONDS:
        raise ForgedRequest("the request's validity window is not one the control plane issues")
    if now > request.expires_at:
        raise ForgedRequest(f"the request expired {now - request.expires_at:.0f} s ago")
    if request.playbook != playbook:
        raise ForgedRequest(f"the request is for playbook {request.playbook!r}, not {playbook!r}")
    return request
