"""The maintenance Lambda, run on a schedule: close cases whose approval window has passed, re-drive
RUNNING cases nothing is working on, and tell of cases deleted from the case table (parry.engine.vanished).

One function for every playbook. It touches the case table, the evidence (an audit record and a new
signed manifest per closed case) and the topic, never an account's resources: a stuck case is
continued by its own playbook's runner, asked with a `continue` sealed by the continuation key, as a
runner asks itself near its deadline (`parry cases expire` does the same in process).
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from parry.engine.run import Engine
    from parry.store.model import Case

# A RUNNING case untouched this long, whose lease is free, is stuck (its run died or failed part-way):
# longer than a runner's continuation takes to start, shorter than the 15 minutes between sweeps.
logger = logging.getLogger(__name__)

STUCK_AFTER_SECONDS = 300.0
PROBE_LEASE_SECONDS = 60.0
MAINTENANCE = "parry-maintenance"
NOTICES_A_SWEEP = 10  # cases found deleted in one sweep told one by one; beyond, one notice counts the rest

Invoke = Callable[[str, dict[str, Any]], object]  # (playbook, sealed continue): ask its runner


class Swept(TypedDict):
    expired: list[str]  # the cases closed, by id
    redriven: list[str]  # RUNNING cases whose runner was asked to continue them
    left: dict[str, str]  # RUNNING cases left as they are, and why (blocked, held)
    vanished: list[str]  # cases with evidence and no table record (parry.engine.vanished): deleted, told once
    unchecked: NotRequired[str]  # why the look for deleted cases failed this time


def sweep(engine: Engine, invoke: Invoke, *, requested_by: str = MAINTENANCE) -> Swept:
    """Expire overdue approvals, ask each stuck RUNNING case's runner to continue it, and tell of deleted cases."""
    from parry.aws.errors import describe_error
    from parry.engine.approvals import expire_overdue

    expired = expire_overdue(engine)
    redriven: list[str] = []
    left: dict[str, str] = {}
    for case in engine.store.list(limit=1000, status="RUNNING"):
        why = _left_because(engine, case)
        if why is None:
            try:
                answer = invoke(case.playbook, _continue(engine, case, requested_by))
            except Exception as exc:  # one runner failing leaves the others to be continued
                why = f"its runner failed: {describe_error(exc)}"
            else:
                if isinstance(answer, dict) and answer.get("status") in ("ERROR", "REFUSED"):
                    why = f"its runner answered {answer['status']}: {answer.get('error')}"
                else:
                    redriven.append(case.case_id)
        if why:
            left[case.case_id] = why
    swept: Swept = {"expired": expired, "redriven": redriven, "left": left, "vanished": []}
    try:
        swept["vanished"] = _deleted_cases(engine)
    except Exception as exc:  # the sweep's other work is done: what failed here is said, and tried again next sweep
        logger.warning("looking for cases deleted from the case table failed: %s", describe_error(exc))
        swept["unchecked"] = describe_error(exc)
    return swept


def _deleted_cases(engine: Engine) -> list[str]:
    """The cases deleted from the table (parry.engine.vanished), each said once: logged, and told if there is a topic."""
    from parry.engine import notices, vanished

    gone = vanished.vanished_cases(engine)
    new = [d for d in gone if not vanished.said_before(engine, d)]
    for deleted in new:
        vanished.log(deleted)
    if engine.settings.topic_arn and new:  # told first, marked once told: said twice rather than never
        for deleted in new[:NOTICES_A_SWEEP]:
            engine.tell(*notices.case_vanished(deleted))
        if len(new) > NOTICES_A_SWEEP:
            engine.tell(*notices.more_cases_vanished(len(new) - NOTICES_A_SWEEP))
        for deleted in new:
            vanished.mark_said(engine, deleted)
    return [d.case_id for d in gone]


def _left_because(engine: Engine, case: Case) -> str | None:
    """Why a RUNNING case is not re-driven ("" for one simply still in progress), or None to re-drive it.

    A case blocked for a member account's credentials, or by a runner that may not run its playbook
    version, waits for the on-call's `parry cases resume`: this function cannot tell the block is gone.
    """
    from parry.engine import versions
    from parry.store.step_result import BLOCKED

    if any(s.status == BLOCKED for s in case.steps):
        return "blocked: no credentials for its account; `parry cases resume` once they are set up"
    if versions.blocked(case):
        return "blocked: its runner may not run its playbook version; `parry cases resume` after redeploying"
    touched = datetime.fromisoformat(case.updated_at or case.opened_at).timestamp()
    if engine.clock() - touched < STUCK_AFTER_SECONDS:
        return ""
    probe = uuid.uuid4().hex  # nothing holds it if its lease can be taken; give it straight back
    if not engine.store.acquire_lease(case.case_id, owner=probe, seconds=PROBE_LEASE_SECONDS):
        return "a run holds its lease"
    engine.store.release_lease(case.case_id, owner=probe)
    return None


def _continue(engine: Engine, case: Case, requested_by: str) -> dict[str, Any]:
    from parry.errors import ConfigError
    from parry.runtime.control_requests import CONTINUATION_KEY, ControlRequest, seal

    key_id = engine.settings.continuation_key_id
    if not key_id:
        raise ConfigError("set PARRY_CONTINUATION_KEY_ID: stuck cases are continued with a sealed continue")
    request = ControlRequest.issue(
        "continue",
        case.playbook,
        requested_by,
        engine.clock(),
        case_id=case.case_id,
        playbook_sha256=case.playbook_sha256,
    )
    return seal(request, engine.aws.client("kms"), key_id, CONTINUATION_KEY)


def lambda_invoke(engine: Engine) -> Invoke:
    """Ask a deployed runner asynchronously (it may run for minutes; its own retries cover a failure)."""
    from parry.runtime.front_door import runner_function_name

    def invoke(playbook: str, payload: dict[str, Any]) -> None:
        engine.aws.client("lambda").invoke(
            FunctionName=runner_function_name(playbook), InvocationType="Event", Payload=json.dumps(payload).encode()
        )

    return invoke


def handler(event: dict[str, Any], context: LambdaContext | None = None) -> Swept:
    """The sweep, counted (`ExpiredApprovals`, `RedrivenCases`) and logged."""
    from aws_lambda_powertools import Logger, Metrics

    from parry.aws.clients import ClientFactory
    from parry.config import Settings
    from parry.engine.run import Engine
    from parry.runtime.dimensions import without_playbook

    logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "parry"))
    metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Parry"), service="parry")
    without_playbook(metrics)
    engine = Engine(ClientFactory(), Settings.from_env())
    who = context.invoked_function_arn if context is not None else MAINTENANCE
    swept = sweep(engine, lambda_invoke(engine), requested_by=who)
    metrics.add_metric(name="ExpiredApprovals", unit="Count", value=len(swept["expired"]))
    metrics.add_metric(name="RedrivenCases", unit="Count", value=len(swept["redriven"]))
    metrics.add_metric(name="VanishedCases", unit="Count", value=len(swept["vanished"]))
    metrics.flush_metrics()
    logger.info("maintenance sweep", extra=dict(swept))
    return swept
