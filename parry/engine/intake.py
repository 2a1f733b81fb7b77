"""Taking an event in: whether a playbook can take it, and the target and dedup values it resolves to."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from parry.errors import EventError, ExpressionError
from parry.playbooks.model import Playbook
from parry.routing.events import check_envelope
from parry.routing.expressions import search
from parry.routing.finding_view import expression_data

if TYPE_CHECKING:
    from parry.routing.patterns import Pattern

# EventBridge delivers at most 256 KB; the case item (event + target + steps) must stay under
# DynamoDB's 400 KB, and target values are resource identifiers, never this long.
MAX_EVENT_BYTES = 256 * 1024
MAX_TARGET_BYTES = 16 * 1024


def checked_event(playbook: Playbook, event: Any, *, manual: bool) -> dict[str, Any]:
    """The event, if Parry can take it for `playbook`: an EventBridge event small enough to store,
    matching the trigger (or started by hand on a manual playbook); EventError otherwise."""
    checked = check_envelope(event)
    size = _encoded_size(checked, "the event is")
    if size > MAX_EVENT_BYTES:
        raise EventError(f"the event is {size} bytes: more than the {MAX_EVENT_BYTES} an EventBridge event can hold")
    if not (manual and playbook.manual) and not _trigger(playbook).matches(checked):
        hint = "" if not playbook.manual else " (it is manual: start it by hand to run it on any event)"
        raise EventError(f"the event does not match the trigger of playbook {playbook.name}{hint}")
    return checked


def resolve(playbook: Playbook, event: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """(target values, dedup value) from the event and its finding's view (`finding`); ExpressionError
    names the expression."""
    data = expression_data(event)
    target: dict[str, Any] = {}
    for name, expr in playbook.target.items():
        try:
            target[name] = search(expr, data)
        except ExpressionError as exc:
            raise ExpressionError(f"target.{name}: {exc}") from exc
    target_size = _encoded_size(target, "the event's target values are")
    if target_size > MAX_TARGET_BYTES:
        raise EventError(f"the event's target values take {target_size} bytes: no resource identifier is that long")
    dedup_value = search(playbook.dedup, data) if playbook.dedup else None
    if dedup_value in (None, "", [], {}):
        dedup_value = event.get("id") or uuid.uuid4().hex
    return target, str(dedup_value)


def _encoded_size(value: Any, what: str) -> int:
    """Bytes of the JSON Parry stores; EventError when a hostile value nests too deeply to encode."""
    try:
        return len(json.dumps(value, default=str).encode())
    except (RecursionError, ValueError) as exc:
        raise EventError(f"{what} nested too deeply to store") from exc


_TRIGGERS: dict[str, Pattern] = {}


def _trigger(playbook: Playbook) -> Pattern:
    """The playbook's compiled trigger, compiled once per playbook version (the defensive re-check is hot)."""
    from parry.routing.patterns import compile_pattern

    key = playbook.sha256
    if key not in _TRIGGERS:
        _TRIGGERS[key] = compile_pattern(playbook.trigger)
    return _TRIGGERS[key]
