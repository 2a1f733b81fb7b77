"""`parry run`: start a playbook by hand through the front door, or deliver a saved event to the runner.

The command that starts a containment loads no command-line framework: `parry run` reaches `start`
through its own parser (parry.cli.run_args), and typer's `run` command calls it too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from parry.cli import render
from parry.cli.common import dump, load_playbook, make_control, make_engine, note, read_one_event
from parry.errors import ConfigError, EventError, ParryError

if TYPE_CHECKING:
    from parry.engine.run import Engine
    from parry.playbooks.model import Playbook
    from parry.runtime.runner import Selection


@dataclass(frozen=True)
class RunRequest:
    """What `parry run` was asked, as typed (the option names in parry.cli.run_args and parry.cli.playbooks)."""

    playbook: str
    finding: str | None = None
    target: list[str] = field(default_factory=list)
    event: str | None = None
    reason: str = ""
    new_case: bool = False
    folder: str | None = None
    act_as: str | None = None
    control_url: str | None = None
    evidence_bucket: str | None = None
    cases_table: str | None = None
    topic_arn: str | None = None
    as_json: bool = False


def start(request: RunRequest) -> int:
    """Run `request`; the exit code (1 when a case failed or a custom action event ran none)."""
    if sum(bool(x) for x in (request.finding, request.target, request.event)) != 1:
        raise EventError("give one of --finding, --target or --event")
    book = load_playbook(request.playbook, request.folder)
    if request.event:
        if request.new_case:
            raise EventError("--new-case is for a start on --finding or --target, through the front door")
        if request.control_url:
            raise ConfigError("--event runs here, not in a deployed Parry: start it on --finding or --target")
        return _deliver(book, read_one_event(request.event), request)
    values = dict(_pair(item) for item in request.target)
    control = make_control(
        request.evidence_bucket,
        request.cases_table,
        request.topic_arn,
        control_url=request.control_url,
        act_as=request.act_as,
    )
    case = control.start(
        book.name,
        finding_id=request.finding,
        target=values or None,
        reason=request.reason,
        new_case=request.new_case,
    )
    return _show_case(case, request.as_json)


def _pair(item: str) -> tuple[str, str]:
    name, sep, value = item.partition("=")
    if not sep or not name:
        raise EventError(f"--target {item!r}: give name=value")
    return name, value


def _deliver(book: Playbook, the_event: dict[str, Any], request: RunRequest) -> int:
    """An event delivered to the runner in this process, as EventBridge would deliver it (a local endpoint)."""
    from parry.routing.custom_actions import is_custom_action
    from parry.runtime.in_process import run_in_process, run_selection_in_process

    engine = make_engine(request.evidence_bucket, request.cases_table, request.topic_arn)
    register_locally(engine, the_event)
    if is_custom_action(the_event):
        result = run_selection_in_process(the_event, book, engine)
        _show_selection(result, request.as_json)
        return 1 if not result["cases"] or any(c["status"] == "FAILED" for c in result["cases"]) else 0
    return _show_case(run_in_process(the_event, book, engine), request.as_json)


def _show_case(case: dict[str, Any], as_json: bool) -> int:
    if case.get("status") in ("REFUSED", "ERROR") and "case_id" not in case:
        raise ParryError(str(case.get("error")))
    if as_json:
        dump(_case_summary(case))
    else:
        render.case(case)
    return 1 if case["status"] == "FAILED" else 0


def register_locally(engine: Engine, event: dict[str, Any]) -> None:
    """Against a local endpoint, put the event's finding in the local GuardDuty or Security Hub first:
    Parry re-reads it from there, as it re-reads a delivered finding from the service in AWS."""
    from parry.aws.endpoints import is_local

    if is_local():
        from parry.local.corrections import register_finding

        register_finding(engine.aws, event)


def _case_summary(case: dict[str, Any]) -> dict[str, Any]:
    return {
        "case_id": case["case_id"],
        "status": case["status"],
        "duplicate": case["duplicate"],
        "attached": case.get("attached", False),  # a new finding recorded with the open case on its key
        "follows": case.get("follows"),  # the closed case on the same key this new one follows
        "steps": case["steps"],
    }


def _show_selection(result: Selection, as_json: bool) -> None:
    if as_json:
        dump({"cases": [_case_summary(c) for c in result["cases"]], "errors": result["errors"]})
        return
    for case in result["cases"]:
        render.case(case)
    for error in result["errors"]:
        note(f"finding {error['finding']}: {error['error']}")
