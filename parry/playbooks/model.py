"""Playbooks (parry/v1): the model, loading from YAML or compiled JSON, and compilation.

Validation lives in `parry.playbooks.validate`; this module only builds the typed model from a document
that has passed it, and turns it into the JSON the Lambda asset carries.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parry.errors import PlaybookNotFound

if TYPE_CHECKING:
    from parry.actions.base import Permission

API_VERSION = "parry/v1"
MODES = ("enforce", "dry-run")
ON_ERROR = ("abort", "continue")
DEFAULT_APPROVAL_TTL_HOURS = 24


@dataclass(frozen=True)
class Step:
    id: str
    action: str
    with_: dict[str, Any] = field(default_factory=dict)
    when: str | None = None
    on_error: str = "abort"
    approval: bool = False
    undo: bool = True  # false: `parry undo` skips this step on purpose

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "action": self.action, "with": self.with_, "on_error": self.on_error}
        if self.when is not None:
            out["when"] = self.when
        if self.approval:
            out["approval"] = "required"
        if not self.undo:
            out["undo"] = False
        return out


@dataclass(frozen=True)
class Playbook:
    name: str
    trigger: dict[str, Any]
    steps: tuple[Step, ...]
    description: str = ""
    mode: str = "enforce"
    manual: bool = False
    # None: separate for manual runs only (and always at the rate-limit gate); see parry.engine.approvals
    separate_approver: bool | None = None
    dedup: str | None = None
    # minutes a SUCCEEDED case keeps answering for new findings on its key (attached to it); 0: a new case
    dedup_window_minutes: int = 0
    target: dict[str, str] = field(default_factory=dict)
    max_cases_per_hour: int | None = None
    approval_ttl_hours: int = DEFAULT_APPROVAL_TTL_HOURS
    reserved_concurrency: int | None = None
    path: str | None = None

    @classmethod
    def from_document(cls, doc: dict[str, Any], path: str | None = None) -> Playbook:
        guard = doc.get("guardrails") or {}
        runner = doc.get("runner") or {}
        steps = tuple(
            Step(
                id=s["id"],
                action=s["action"],
                with_=dict(s.get("with") or {}),
                when=s.get("when"),
                on_error=s.get("on_error", "abort"),
                approval=s.get("approval") == "required",
                undo=s.get("undo", True) is not False,
            )
            for s in doc["steps"]
        )
        return cls(
            name=doc["name"],
            trigger=doc["trigger"],
            steps=steps,
            description=doc.get("description", ""),
            mode=doc.get("mode", "enforce"),
            manual=bool(doc.get("manual", False)),
            separate_approver=doc.get("separate_approver"),
            dedup=doc.get("dedup"),
            dedup_window_minutes=doc.get("dedup_window_minutes", 0),
            target=dict(doc.get("target") or {}),
            max_cases_per_hour=guard.get("max_cases_per_hour"),
            approval_ttl_hours=guard.get("approval_ttl_hours", DEFAULT_APPROVAL_TTL_HOURS),
            reserved_concurrency=runner.get("reserved_concurrency"),
            path=path,
        )

    def compiled(self) -> dict[str, Any]:
        """The JSON document the Lambda asset carries: defaults filled in, no YAML needed."""
        out: dict[str, Any] = {
            "version": API_VERSION,
            "name": self.name,
            "description": self.description,
            "trigger": self.trigger,
            "mode": self.mode,
            "manual": self.manual,
            "dedup": self.dedup,
            "target": self.target,
            "guardrails": {
                "max_cases_per_hour": self.max_cases_per_hour,
                "approval_ttl_hours": self.approval_ttl_hours,
            },
            "runner": {"reserved_concurrency": self.reserved_concurrency},
            "steps": [s.to_json() for s in self.steps],
        }
        if self.separate_approver is not None:  # only when set, so the playbooks that leave it keep their sha256
            out["separate_approver"] = self.separate_approver
        if self.dedup_window_minutes:
            out["dedup_window_minutes"] = self.dedup_window_minutes
        return out

    def compiled_bytes(self) -> bytes:
        return json.dumps(self.compiled(), sort_keys=True, separators=(",", ":")).encode()

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.compiled_bytes()).hexdigest()

    def action_names(self) -> list[str]:
        """Actions the playbook runs, and their undo actions (`parry undo` runs those)."""
        from parry.actions import registry

        names: set[str] = set()
        for step in self.steps:
            names.add(step.action)
            undo = registry.get(step.action).undo
            if undo and step.undo:
                names.add(undo)
        return sorted(names)

    def permissions(self) -> list[Permission]:
        """The union of the declared permissions of every action the playbook may run, and the CloudTrail
        read that confirms a CloudTrail event in the account it is about (parry.routing.cloudtrail)."""
        from parry.actions import registry
        from parry.actions.base import Permission
        from parry.routing.cloudtrail import takes_cloudtrail_events

        seen: list[Permission] = []
        for name in self.action_names():
            for perm in registry.get(name).permissions:
                if perm not in seen:
                    seen.append(perm)
        # LookupEvents supports no resource-level permissions; a member permission: each account's own history
        confirm = Permission(("cloudtrail:LookupEvents",))
        if takes_cloudtrail_events(self.trigger) and confirm not in seen:
            seen.append(confirm)
        return seen


def load_compiled(path: str | Path) -> Playbook:
    """A playbook from its compiled JSON (the Lambda's path: already validated at synth)."""
    return from_compiled(json.loads(Path(path).read_text()), str(path))


def from_compiled(compiled: dict[str, Any], path: str | None = None) -> Playbook:
    """A playbook from its compiled document (`Playbook.compiled`): a file's, or the one sealed in a case."""
    doc = dict(compiled)
    guard = doc.get("guardrails") or {}
    doc["guardrails"] = {k: v for k, v in guard.items() if v is not None}
    return Playbook.from_document(doc, path)


def resolve_path(name_or_path: str, playbooks_dir: str | Path = "playbooks") -> Path:
    """A playbook name from the playbooks folder, or a path to a YAML file."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml", ".json") and path.is_file():
        return path
    for suffix in (".yaml", ".yml"):
        candidate = Path(playbooks_dir) / f"{name_or_path}{suffix}"
        if candidate.is_file():
            return candidate
    raise PlaybookNotFound(f"no playbook {name_or_path!r}: not a file, and not a name in {playbooks_dir}/")
