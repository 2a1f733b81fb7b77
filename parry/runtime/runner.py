"""The runner Lambda: parse the event, run this function's playbook, emit metrics. Nothing else.

Local runs (`parry run`, `parry demo`) go through this same code in-process (parry.runtime.in_process),
so the local path is the Lambda path. Powertools and the engine are made on first use, keeping the
import of the Lambda's handler cheap.
"""

from __future__ import annotations

import json
import os
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from parry.engine.run import Engine
    from parry.playbooks.model import Playbook
    from parry.store.model import Case

# The folder that holds the `parry` package: in the Lambda asset its root, where the compiled
# playbooks sit in playbooks/ (stacks/asset.py puts them there).
DEFAULT_PLAYBOOKS_DIR = Path(__file__).resolve().parents[2] / "playbooks"


class Rejected(TypedDict):
    finding: str
    error: str


class Selection(TypedDict):
    """What a Security Hub custom action's run answers: one case per finding that ran, and why the others did not."""

    cases: list[dict[str, Any]]
    errors: list[Rejected]


class Summary(TypedDict):
    case_id: str
    status: str
    duplicate: bool
    error: NotRequired[str]  # why a REFUSED request changed nothing


class SelectionSummary(TypedDict):
    cases: list[Summary]
    errors: list[Rejected]


class Runner:
    """One runner function and what it makes on its first invocation (the powertools logger and
    metrics, the engine, its compiled playbook), kept while its container is warm."""

    def __init__(self) -> None:
        self._playbooks: dict[Path, Playbook] = {}

    @cached_property
    def tools(self) -> tuple[Logger, Metrics]:
        from aws_lambda_powertools import Logger, Metrics

        return Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "parry")), Metrics(
            namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Parry"), service="parry"
        )

    @cached_property
    def engine(self) -> Engine:
        from parry.aws.clients import ClientFactory
        from parry.config import Settings
        from parry.engine.run import Engine

        return Engine(ClientFactory(), Settings.from_env())

    def handler(self, event: dict[str, Any], context: LambdaContext) -> Summary | SelectionSummary:
        """The Lambda entry point: a Security Hub custom action runs per finding, any other event once."""
        from parry.routing.custom_actions import is_custom_action

        if is_custom_action(event):
            result = self.run_selection(event, context)
            return {"cases": [_summary(c) for c in result["cases"]], "errors": result["errors"]}
        return _summary(self.run(event, context))

    def run(
        self,
        event: dict[str, Any],
        context: LambdaContext | None = None,
        *,
        playbook_name: str | None = None,
        playbooks_dir: str | None = None,
        engine: Engine | None = None,
    ) -> dict[str, Any]:
        """Run the playbook on one event (or carry out the run request it is) and return the case as a dict.

        A Security Hub custom action goes to `run_selection` (one case per selected finding).
        """
        from parry.errors import CaseBusy, EventError, FindingNotAuthentic, ParryError
        from parry.routing.custom_actions import is_custom_action
        from parry.routing.events import check_envelope
        from parry.runtime.requests import RunRequest

        name = playbook_name or os.environ.get("PARRY_PLAYBOOK", "")
        logger, metrics = self._tools_for(name)
        try:
            playbook = self._load(name, playbooks_dir)
            request = RunRequest.parse(check_envelope(event))  # anything else is refused by name
            if request is not None and request.undo_case:
                return self._undo(playbook, request.undo_case, event, engine or self.engine, context)
            inner = request.event if request is not None and request.event is not None else event
            if is_custom_action(inner):
                raise EventError(
                    "a Security Hub custom action runs once per selected finding: pass it to run_selection"
                )
            continue_case = request.continue_case if request is not None else None
            return self._run_one(playbook, inner, request is not None, continue_case, engine or self.engine, context)
        except CaseBusy as exc:
            # another invocation holds the case (or died holding it): fail, so Lambda retries after its lease
            logger.warning("case busy", extra={"playbook": name, "reason": str(exc)})
            metrics.add_metric(name="DeferredDeliveries", unit="Count", value=1)
            metrics.flush_metrics()
            raise
        except FindingNotAuthentic as exc:
            # a finding its service does not confirm: nothing ran, and a retry cannot make it authentic
            self._refuse(name, str(exc), event)
            return {"case_id": "", "status": "REFUSED", "duplicate": False, "error": str(exc)}
        except ParryError as exc:
            # a malformed or unexpected event: say why, count it, and fail so it lands in the DLQ (never retried forever)
            self._reject(name, str(exc), event)
            raise

    def run_selection(
        self,
        event: dict[str, Any],
        context: LambdaContext | None = None,
        *,
        playbook_name: str | None = None,
        playbooks_dir: str | None = None,
        engine: Engine | None = None,
    ) -> Selection:
        """A Security Hub custom action: run the playbook on each selected finding (manual=True).

        Each finding gets its own case (a finding Parry already handled answers with its existing
        case), one that cannot be read or run is logged by name, counted (`RejectedFindings`) and
        listed in `errors`, and the others still run.

        When no finding can run, the event is rejected (logged, `RejectedEvents`) and this *returns*:
        an analyst clicked a button, and the answer (finding deleted, GuardDuty off, access denied) will
        not change if Lambda asks twice more; raising would only repeat the calls and then put the
        event in the DLQ, whose alarm means "an event waits to be redriven", which would not help here.
        A busy case, or GuardDuty throttled or failing, does raise: a retry can succeed, and the
        findings that already ran answer with their cases.
        """
        from parry.errors import CaseBusy, FindingNotAuthentic, ParryError
        from parry.routing.custom_actions import selected_events
        from parry.routing.events import check_envelope

        name = playbook_name or os.environ.get("PARRY_PLAYBOOK", "")
        logger, metrics = self._tools_for(name)
        engine = engine or self.engine
        try:
            playbook = self._load(name, playbooks_dir)
            selected = selected_events(check_envelope(event), engine.aws)
        except ParryError as exc:
            self._reject(name, str(exc), event)
            raise
        cases: list[dict[str, Any]] = []
        errors: list[Rejected] = []
        for finding in selected:
            reason = finding.error or "no event to run on"
            if finding.event is not None:
                try:
                    cases.append(self._run_one(playbook, finding.event, True, None, engine, context))
                    continue
                except CaseBusy:
                    raise  # as for any event: Lambda retries after the lease, the others answer with their cases
                except FindingNotAuthentic as exc:
                    reason = str(exc)
                    self._refuse(name, reason, event)
                except ParryError as exc:
                    reason = str(exc)
            logger.error(
                "finding rejected",
                extra={"playbook": name, "finding": finding.finding_id[:500], "reason": reason[:2000]},
            )
            errors.append({"finding": finding.finding_id, "error": reason})
        if errors:
            metrics.add_metric(name="RejectedFindings", unit="Count", value=len(errors))
        if not cases:
            reasons = "; ".join(e["error"] for e in errors)
            self._reject(name, f"none of the {len(selected)} selected finding(s) can run: {reasons}", event)
        elif errors:
            metrics.flush_metrics()
        return {"cases": cases, "errors": errors}

    def _tools_for(self, playbook: str) -> tuple[Logger, Metrics]:
        """The logger and metrics, every metric dimensioned by this function's playbook (rejections too)."""
        logger, metrics = self.tools
        if metrics.default_dimensions.get("playbook") != playbook:
            metrics.set_default_dimensions(playbook=playbook)
        return logger, metrics

    def _load(self, name: str, directory: str | None) -> Playbook:
        from parry.playbooks.model import load_compiled

        path = Path(directory or os.environ.get("PARRY_PLAYBOOKS_DIR") or DEFAULT_PLAYBOOKS_DIR) / f"{name}.json"
        if path not in self._playbooks:
            self._playbooks[path] = load_compiled(path)
        return self._playbooks[path]

    def _reject(self, name: str, reason: str, event: Any) -> None:
        logger, metrics = self.tools
        logger.error("event rejected", extra={"playbook": name, "reason": reason[:2000], "event_id": _event_id(event)})
        metrics.add_metric(name="RejectedEvents", unit="Count", value=1)
        metrics.flush_metrics()

    def _refuse(self, name: str, reason: str, event: Any) -> None:
        """A security event: something asked this runner to act that Parry cannot confirm (one log line, one metric)."""
        logger, metrics = self.tools
        logger.warning(
            "security event",
            extra={"security_event": True, "playbook": name, "reason": reason[:2000], "event_id": _event_id(event)},
        )
        metrics.add_metric(name="SecurityRejections", unit="Count", value=1)
        metrics.flush_metrics()

    def _run_one(
        self,
        playbook: Playbook,
        inner: dict[str, Any],
        manual: bool,
        continue_case: str | None,
        engine: Engine,
        context: LambdaContext | None,
    ) -> dict[str, Any]:
        """Run (or continue) one case, emit its metrics and log line; the case as a dict."""
        logger, metrics = self.tools
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
            self._continue_later(context, case.case_id, playbook.name)
        return case.as_dict()

    def _undo(
        self, playbook: Playbook, case_id: str, event: dict[str, Any], engine: Engine, context: LambdaContext | None
    ) -> dict[str, Any]:
        """Carry out the undo `parry undo` recorded in the case (`parry.engine.undo.carry_out`); the case as a dict.

        The event only says which case to look at: what to undo, for whom and why come from the
        request recorded in the case. A refused request (none pending in the case: a forged or stray
        event; a case of another playbook; no such case) is logged as rejected, counted, and *returned*,
        as `run_selection` returns when no finding can run: asking again gives the same answer, so a
        raise would only repeat it twice and park the event in the DLQ, whose alarm means "an event
        waits to be redriven". A busy case raises CaseBusy (Lambda retries after the lease), as a run does.
        """
        from parry.engine.run import LOCAL_LEASE_SECONDS
        from parry.engine.undo import carry_out
        from parry.errors import UndoRefused

        logger, metrics = self.tools
        lease = (context.get_remaining_time_in_millis() / 1000 + 5.0) if context is not None else LOCAL_LEASE_SECONDS
        try:
            case = carry_out(engine, case_id, playbook=playbook.name, lease_seconds=lease)
        except UndoRefused as exc:
            self._reject(playbook.name, str(exc), event)
            return {"case_id": case_id, "status": "REFUSED", "duplicate": False, "error": str(exc)}
        request = case.undo_request or {}
        if not case.duplicate:
            metrics.add_metric(name="Undos", unit="Count", value=1)
            if request.get("state") == "failed":
                metrics.add_metric(name="Failures", unit="Count", value=1)
            metrics.flush_metrics()
        logger.info(
            "undo",
            extra={
                "case_id": case.case_id,
                "status": case.status,
                "duplicate": case.duplicate,
                "request": request.get("id"),
                "state": request.get("state"),
            },
        )
        return case.as_dict()

    def _continue_later(self, context: LambdaContext, case_id: str, playbook: str) -> None:
        """Near the deadline: invoke this function again, asynchronously, to finish the case."""
        from parry.aws.clients import ClientFactory
        from parry.runtime.requests import RunRequest

        request = RunRequest(playbook, continue_case=case_id)
        ClientFactory().client("lambda").invoke(
            FunctionName=context.invoked_function_arn,
            InvocationType="Event",
            Payload=json.dumps(request.as_event()).encode(),
        )


def _event_id(event: Any) -> str | None:
    """The event id for a log line, only when it is a plain string (a hostile event may nest anything)."""
    event_id = event.get("id") if isinstance(event, dict) else None
    return event_id[:200] if isinstance(event_id, str) else None


def _containment_latency(event: dict[str, Any], case: Case) -> float | None:
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


def _summary(case: dict[str, Any]) -> Summary:
    summary: Summary = {"case_id": case["case_id"], "status": case["status"], "duplicate": case["duplicate"]}
    if "error" in case:
        summary["error"] = case["error"]
    return summary
