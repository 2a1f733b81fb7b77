"""What the scenarios run on: shipped playbooks, tests/events, the runner Lambda.

Scenarios exercise what ships, not copies: playbooks are loaded from playbooks/, events from the
real fixture payloads under tests/events (retargeted by `load_record`), and the Lambda is
parry.runtime.runner's Runner, as functions/runner/handler.py makes it.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from parry.runtime.runner import Runner

ROOT = Path(__file__).resolve().parents[3]
PLAYBOOKS_DIR = ROOT / "playbooks"
EVENTS_DIR = ROOT / "tests" / "events"
DELETE = object()  # a value for load_record: remove the field


def load_event(relpath: str) -> dict[str, Any]:
    from parry.routing.events import wrap

    event, _ = wrap(json.loads((EVENTS_DIR / relpath).read_text()))
    return copy.deepcopy(event)


def fixture_events() -> list[tuple[str, dict[str, Any]]]:
    """Every fixture event under tests/events, wrapped in its EventBridge envelope."""
    out = []
    for path in sorted(EVENTS_DIR.rglob("*.json")):
        try:
            out.append((str(path.relative_to(EVENTS_DIR)), load_event(str(path.relative_to(EVENTS_DIR)))))
        except Exception:  # a fixture that is not an event (e.g. an expected-output file)
            continue
    return out


def playbook_paths() -> list[Path]:
    return sorted(p for p in PLAYBOOKS_DIR.iterdir() if p.suffix in (".yaml", ".yml"))


def load_playbook(path: Path) -> Any:
    """The playbook with its approval gates taken out: the sweeps crash every step of a whole run,
    which a gate would stop at (the gates' own crash safety: tests/security/test_decisions_*)."""
    from parry.playbooks.validate import load_yaml, validate_document

    located = load_yaml(path.read_text(), str(path))
    for step in located.doc.get("steps", []):
        step.pop("approval", None)
    return validate_document(located.doc, str(path), located)


def load_record(relpath: str, **changes: Any) -> dict[str, Any]:
    """A bare fixture payload (e.g. a CloudTrail record), changed, then wrapped as EventBridge would."""
    from parry.routing.events import wrap

    payload = json.loads((EVENTS_DIR / relpath).read_text())
    for dotted, value in changes.items():
        parent = payload
        parts = dotted.split("__")
        for part in parts[:-1]:
            parent = parent.setdefault(part, {})
        if value is DELETE:
            parent.pop(parts[-1], None)
        else:
            parent[parts[-1]] = value
    event, _ = wrap(payload)
    return event


def fresh_runner() -> Runner:
    """A runner as a new container has it: its powertools objects are made on first use, with this env."""
    from parry.runtime.runner import Runner

    return Runner()
