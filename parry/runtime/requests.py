"""The `Parry Run Request`: the one event by which anyone asks a playbook's runner to act.

Built here (the CLI's continue and undo requests, `parry run --manual`, a runner continuing its
own case near its deadline) and parsed here (the runner), so the wire format has one definition:
source `parry`, detail-type `Parry Run Request`, and a detail naming the `playbook` and at most
one of `continue_case`, `undo_case` or an `event` to run on. Each playbook's EventBridge rule for
run requests (stacks/constructs/playbook_routes.py) matches on SOURCE, DETAIL_TYPE and the playbook.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from parry.errors import EventError

SOURCE = "parry"
DETAIL_TYPE = "Parry Run Request"
CASE_ID = re.compile(r"[A-Za-z0-9-]{1,100}")
CASE_KEYS = ("continue_case", "undo_case")  # checked in this order: the first one given wins


@dataclass(frozen=True)
class RunRequest:
    """What a run request asks for: continue a case, undo a case, or run the playbook by hand on
    the `event` it carries (or, carrying none, on the request itself: a playbook triggered by run
    requests reads its target from their detail)."""

    playbook: str | None
    continue_case: str | None = None
    undo_case: str | None = None
    event: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        for key in CASE_KEYS:
            value = getattr(self, key)
            if value is not None and not (isinstance(value, str) and CASE_ID.fullmatch(value)):
                raise EventError(f"{key} must be a case id (case-YYYYMMDD-...)")
        if sum(x is not None for x in (self.continue_case, self.undo_case, self.event)) > 1:
            raise ValueError("a run request continues a case, undoes one, or carries an event: one of them")

    @classmethod
    def parse(cls, event: dict[str, Any]) -> RunRequest | None:
        """The request an EventBridge event carries; None for any other event (a finding, a
        CloudTrail record). EventError when a case to continue or undo is not a case id."""
        if event.get("source") != SOURCE or event.get("detail-type") != DETAIL_TYPE:
            return None
        detail = event.get("detail")
        detail = detail if isinstance(detail, dict) else {}
        playbook = detail.get("playbook")
        playbook = playbook if isinstance(playbook, str) else None
        for key in CASE_KEYS:
            if detail.get(key):
                return cls(playbook, **{key: detail[key]})
        inner = detail.get("event")
        return cls(playbook, event=inner if isinstance(inner, dict) else None)

    def detail(self) -> dict[str, Any]:
        detail: dict[str, Any] = {"playbook": self.playbook}
        if self.continue_case:
            detail["continue_case"] = self.continue_case
        elif self.undo_case:
            detail["undo_case"] = self.undo_case
        elif self.event is not None:
            detail["event"] = self.event
        return detail

    def as_event(self) -> dict[str, Any]:
        """The request as the runner receives it: from EventBridge, a Lambda invoke, or in-process."""
        return {"source": SOURCE, "detail-type": DETAIL_TYPE, "detail": self.detail()}

    def as_entry(self) -> dict[str, str]:
        """The request as an EventBridge PutEvents entry (the rule routes it on detail.playbook)."""
        return {"Source": SOURCE, "DetailType": DETAIL_TYPE, "Detail": json.dumps(self.detail())}
