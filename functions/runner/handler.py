"""The runner Lambda: parse the event, run this function's playbook, emit metrics. Nothing else.

Local runs (`parry run`, `parry demo`) call this same handler in-process, so the local path is the
Lambda path. Powertools and the engine are imported on first use, keeping the import itself cheap.
"""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MANUAL_DETAIL_TYPE = "Parry Run Request"


@lru_cache(maxsize=1)
def _tools() -> tuple[Any, Any]:
    from aws_lambda_powertools import Logger, Metrics

    return Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "parry")), Metrics(
        namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Parry"), service="parry"
    )


def _tools_for(playbook: str) -> tuple[Any, Any]:
    """The logger and metrics, every metric dimensioned by this function's playbook (rejections too)."""
    logger, metrics = _tools()
    if metrics.default_dimensions.get("playbook") != playbook:
        metrics.set_default_dimensions(playbook=playbook)
    return logger, metrics


def _load(name: str, directory: str | None) -> Any:
    return _playbook(name, directory or os.environ.get("PARRY_PLAYBOOKS_DIR", str(HERE / "playbooks")))


@lru_cache(maxsize=8)
def _playbook(name: str, directory: str) -> Any:
    from parry.playbooks.model import load_compiled

    return load_compiled(Path(directory) / f"{name}.json")


@lru_cache(maxsize=1)
def _engine() -> Any:
    from parry.aws.clients import ClientFactory
    from parry.engine.run import Engine
    from parry.config import Settings

    return Engine(ClientFactory(), Settings.from_env())


def _unwrap(event: dict[str, Any]) -> tuple[dict[str, Any], bool, str | None, str | None]:
    """(event to run on, started by hand?, case to continue, case to undo). Manual requests may carry an event."""
    if event.get("source") == "parry" and event.get("detail-type") == MANUAL_DETAIL_TYPE:
        detail = event.get("detail") or {}
        for key in ("continue_case", "undo_case"):
            if isinstance(detail, dict) and detail.get(key):
                case_id = detail[key]
                if not isinstance(case_id, str) or not re.fullmatch(r"[A-Za-z0-9-]{1,100}", case_id):
                    from parry.errors import EventError

                    raise EventError(f"{key} must be a case id (case-YYYYMMDD-...)")
                return (event, True, case_id, None) if key == "continue_case" else (event, True, None, case_id)
        inner = detail.get("event") if isinstance(detail, dict) else None
        return (inner if isinstance(inner, dict) else event), True, None, None
    return event, False, None, None


def _event_id(event: Any) -> str | None:
    """The event id for a log line, only when it is a plain string (a hostile event may nest anything)."""
    event_id = event.get("id") if isinstance(event, dict) else None
    return event_id[:200] if isinstance(event_id, str) else None


def _containment_latency(event: dict[str, Any], case: Any) -> float | None:
    """Seconds from the finding's updatedAt to the end of the first mutating step that succeeded."""
    from datetime import datetime

    detail = event.get("detail") or {}
    stamp = detail.get("updatedAt") or detail.get("eventTime") or event.get("time")
    if not isinstance(stamp, str):
        return None
    done = [s for s in case.steps if s.status == "succeeded" and s.after is not None]
    if not stamp or not done:
        return None
    try:
        start = datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
    return max(0.0, done[0].started_at + done[0].duration_ms / 1000 - start)


def run(event: dict[str, Any], context: Any = None, *, playbook_name: str | None = None,
        playbooks_dir: str | None = None, engine: Any = None) -> dict[str, Any]:
    """Run the playbook on one event and return the case as a dict. The CLI calls this too.

    A Security Hub custom action goes to `run_selection` (one case per selected finding).
    """
    from parry.errors import CaseBusy
    from parry.routing.custom_actions import is_custom_action
    from parry.errors import EventError, ParryError
    from parry.routing.events import check_envelope

    name = playbook_name or os.environ.get("PARRY_PLAYBOOK", "")
    logger, metrics = _tools_for(name)
    try:
        playbook = _load(name, playbooks_dir)
        inner, manual, continue_case, undo_case = _unwrap(check_envelope(event))  # anything else is refused by name
        if undo_case:
            return _undo(playbook, undo_case, event, engine or _engine(), context)
        if is_custom_action(inner):
            raise EventError("a Security Hub custom action runs once per selected finding: pass it to run_selection")
        return _run_one(playbook, inner, manual, continue_case, engine or _engine(), context)
    except CaseBusy as exc:
        # another invocation holds the case (or died holding it): fail, so Lambda retries after its lease
        logger.warning("case busy", extra={"playbook": name, "reason": str(exc)})
        metrics.add_metric(name="DeferredDeliveries", unit="Count", value=1)
        metrics.flush_metrics()
        raise
    except ParryError as exc:
        # a malformed or unexpected event: say why, count it, and fail so it lands in the DLQ (never retried forever)
        _reject(name, str(exc), event)
        raise


def run_selection(event: dict[str, Any], context: Any = None, *, playbook_name: str | None = None,
                  playbooks_dir: str | None = None, engine: Any = None) -> dict[str, Any]:
    """A Security Hub custom action: run the playbook on each selected finding (manual=True).

    Returns {"cases": [case dicts], "errors": [{"finding", "error"}]}: each finding gets its own
    case (a finding Parry already handled answers with its existing case), one that cannot be read
    or run is logged by name, counted (`RejectedFindings`) and listed, and the others still run.

    When no finding can run, the event is rejected (logged, `RejectedEvents`) and this *returns*:
    an analyst clicked a button, and the answer (finding deleted, GuardDuty off, access denied) will
    not change if Lambda asks twice more; raising would only repeat the calls and then put the
    event in the DLQ, whose alarm means "an event waits to be redriven", which would not help here.
    A busy case, or GuardDuty throttled or failing, does raise: a retry can succeed, and the
    findings that already ran answer with their cases.
    """
    from parry.errors import CaseBusy
    from parry.routing.custom_actions import selected_events
    from parry.errors import ParryError
    from parry.routing.events import check_envelope

    name = playbook_name or os.environ.get("PARRY_PLAYBOOK", "")
    logger, metrics = _tools_for(name)
    engine = engine or _engine()
    try:
        playbook = _load(name, playbooks_dir)
        selected = selected_events(check_envelope(event), engine.aws)
    except ParryError as exc:
        _reject(name, str(exc), event)
        raise
    cases: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    for finding in selected:
        reason = finding.error or "no event to run on"
        if finding.event is not None:
            try:
                cases.append(_run_one(playbook, finding.event, True, None, engine, context))
                continue
            except CaseBusy:
                raise  # as for any event: Lambda retries after the lease, the others answer with their cases
            except ParryError as exc:
                reason = str(exc)
        logger.error("finding rejected", extra={"playbook": name, "finding": finding.finding_id[:500], "reason": reason[:2000]})
        errors.append({"finding": finding.finding_id, "error": reason})
    if errors:
        metrics.add_metric(name="RejectedFindings", unit="Count", value=len(errors))
    if not cases:
        _reject(name, f"none of the {len(selected)} selected finding(s) can run: " + "; ".join(e["error"] for e in errors), event)
    elif errors:
        metrics.flush_metrics()
    return {"cases": cases, "errors": errors}


def _reject(name: str, reason: str, event: Any) -> None:
    logger, metrics = _tools()
    logger.error("event rejected", extra={"playbook": name, "reason": reason[:2000], "event_id": _event_id(event)})
    metrics.add_metric(name="RejectedEvents", unit="Count", value=1)
    metrics.flush_metrics()


def _run_one(playbook: Any, inner: dict[str, Any], manual: bool, continue_case: str | None, engine: Any,
             context: Any) -> dict[str, Any]:
    """Run (or continue) one case, emit its metrics and log line; the case as a dict."""
    logger, metrics = _tools()
    remaining = (lambda: context.get_remaining_time_in_millis() / 1000) if context is not None else None
    if continue_case:
        case = engine.resume(continue_case, playbook, remaining_seconds=remaining)
    else:
        case = engine.run(playbook, inner, manual=manual, remaining_seconds=remaining)
    metrics.add_metric(name="Runs", unit="Count", value=1)
    if case.status in ("FAILED", "COMPLETED_WITH_ERRORS") or case.blocked:
        metrics.add_metric(name="Failures", unit="Count", value=1)
    for step in case.steps:
        metrics.add_metric(name="StepDuration", unit="Milliseconds", value=step.duration_ms)
    latency = _containment_latency(inner, case)
    if latency is not None and not case.duplicate:
        metrics.add_metric(name="ContainmentLatency", unit="Seconds", value=latency)
    metrics.flush_metrics()
    logger.info("case", extra={"case_id": case.case_id, "status": case.status, "duplicate": case.duplicate})
    if case.continue_later and context is not None:  # only the run that stopped for its deadline continues it
        _continue_later(context, case.case_id, playbook.name)
    return case.as_dict()


def _undo(playbook: Any, case_id: str, event: dict[str, Any], engine: Any, context: Any) -> dict[str, Any]:
    """Carry out the undo `parry undo` recorded in the case (`parry.undo.carry_out`); the case as a dict.

    The event only says which case to look at: what to undo, for whom and why come from the
    request recorded in the case. A refused request (none pending in the case: a forged or stray
    event; a case of another playbook; no such case) is logged as rejected, counted, and *returned*,
    as `run_selection` returns when no finding can run: asking again gives the same answer, so a
    raise would only repeat it twice and park the event in the DLQ, whose alarm means "an event
    waits to be redriven". A busy case raises CaseBusy (Lambda retries after the lease), as a run does.
    """
    from parry.engine.run import LOCAL_LEASE_SECONDS
    from parry.errors import UndoRefused
    from parry.engine.undo import carry_out

    logger, metrics = _tools()
    lease = (context.get_remaining_time_in_millis() / 1000 + 5.0) if context is not None else LOCAL_LEASE_SECONDS
    try:
        case = carry_out(engine, case_id, playbook=playbook.name, lease_seconds=lease)
    except UndoRefused as exc:
        _reject(playbook.name, str(exc), event)
        return {"case_id": case_id, "status": "REFUSED", "duplicate": False, "error": str(exc)}
    if not case.duplicate:
        metrics.add_metric(name="Undos", unit="Count", value=1)
        if (case.undo_request or {}).get("state") == "failed":
            metrics.add_metric(name="Failures", unit="Count", value=1)
        metrics.flush_metrics()
    logger.info("undo", extra={"case_id": case.case_id, "status": case.status, "duplicate": case.duplicate,
                               "request": (case.undo_request or {}).get("id"), "state": (case.undo_request or {}).get("state")})
    return case.as_dict()


def _continue_later(context: Any, case_id: str, playbook: str) -> None:
    """Near the deadline: invoke this function again, asynchronously, to finish the case."""
    from parry.aws.clients import ClientFactory

    request = {"source": "parry", "detail-type": MANUAL_DETAIL_TYPE, "detail": {"playbook": playbook, "continue_case": case_id}}
    ClientFactory().client("lambda").invoke(
        FunctionName=context.invoked_function_arn, InvocationType="Event", Payload=json.dumps(request).encode()
    )


def _summary(case: dict[str, Any]) -> dict[str, Any]:
    return {"case_id": case["case_id"], "status": case["status"], "duplicate": case["duplicate"]}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from parry.routing.custom_actions import is_custom_action

    if is_custom_action(event):
        result = run_selection(event, context)
        return {"cases": [_summary(c) for c in result["cases"]], "errors": result["errors"]}
    return _summary(run(event, context))
