"""The control plane in tests: a runner as in a fresh Lambda container, its log and metric lines,
and sealed requests made as the front door (or a runner, for `continue`) makes them."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from parry.playbooks.validate import load_file
from parry.runtime.control_requests import CONTINUATION_KEY, REQUEST_KEY, ControlRequest, seal
from parry.runtime.in_process import compile_to
from parry.runtime.runner import Runner

ROOT = Path(__file__).resolve().parents[2]
ONCALL = "arn:aws:sts::123456789012:assumed-role/parry-oncall/alice"
APPROVER = "arn:aws:sts::123456789012:assumed-role/parry-approver/bob"


class Context:
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:parry-iam-credential-compromise"
    function_name = "parry-iam-credential-compromise"
    aws_request_id = "request-1"
    memory_limit_in_mb = 256

    def get_remaining_time_in_millis(self) -> int:
        return 600_000


def fresh_runner(monkeypatch: Any, directory: Path, *books: str) -> Runner:
    """A runner as in a new container, logging and emitting metrics onto this test's stdout."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Parry")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "parry")
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "INFO")
    monkeypatch.setenv("PARRY_PLAYBOOK", books[0])
    monkeypatch.setenv("PARRY_PLAYBOOKS_DIR", str(directory))
    for book in books:
        compile_to(load_file(ROOT / "playbooks" / f"{book}.yaml"), directory)
    # powertools configures the "parry" logger once per process, onto the stdout of that moment:
    # start afresh so this test's captured stdout receives the log lines
    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.logging.constants import LOGGER_ATTRIBUTE_PRECONFIGURED

    log = logging.getLogger("parry")
    monkeypatch.setattr(log, "handlers", [])
    monkeypatch.setattr(log, LOGGER_ATTRIBUTE_PRECONFIGURED, False, raising=False)
    monkeypatch.setattr(log, "powertools_handler", None, raising=False)
    # powertools shares one metric set per process: start from an empty one
    shared = Metrics(namespace="Parry", service="parry")
    shared.clear_default_dimensions()  # a previous test's playbook dimension goes too
    shared.clear_metrics()
    return Runner()


def lines(capsys: Any) -> list[dict[str, Any]]:
    """The JSON lines printed since the last call (powertools log lines and EMF documents)."""
    out = []
    for line in capsys.readouterr().out.splitlines():
        line = line.strip()
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def emf(records: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Metric name -> values, from the EMF documents printed (CloudWatch embedded metric format)."""
    metrics: dict[str, list[Any]] = {}
    for doc in records:
        if "_aws" not in doc:
            continue
        for directive in doc["_aws"]["CloudWatchMetrics"]:
            assert directive["Namespace"] == "Parry"
            for metric in directive["Metrics"]:
                value = doc[metric["Name"]]
                metrics.setdefault(metric["Name"], []).extend(value if isinstance(value, list) else [value])
    return metrics


def security_events(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r.get("security_event") is True and r.get("message") == "security event"]


def sealed(
    settings: dict[str, str],
    aws: Any,
    kind: str,
    playbook: str,
    *,
    requested_by: str = ONCALL,
    key: str = REQUEST_KEY,
    now: float | None = None,
    **values: Any,
) -> dict[str, Any]:
    """A request sealed with the local request key (or the continuation key), as the control plane seals it."""
    import time

    key_id = settings["PARRY_CONTINUATION_KEY_ID" if key == CONTINUATION_KEY else "PARRY_REQUEST_KEY_ID"]
    request = ControlRequest.issue(kind, playbook, requested_by, time.time() if now is None else now, **values)
    return seal(request, aws.client("kms"), key_id, key)
