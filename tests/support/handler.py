"""The runner Lambda as a test invokes it: a fresh runner on one compiled playbook, and what it printed."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from parry.playbooks.validate import load_file
from parry.runtime.in_process import compile_to
from parry.runtime.runner import Runner
from tests.support.paths import ROOT


class Context:
    """The Lambda context the runner reads: its ARN and the time left."""

    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:parry-iam-credential-compromise"
    function_name = "parry-iam-credential-compromise"
    aws_request_id = "request-1"
    memory_limit_in_mb = 256

    def get_remaining_time_in_millis(self) -> int:
        return 600_000


def fresh_runner(monkeypatch: pytest.MonkeyPatch, playbooks_dir: Path, book: str) -> Runner:
    """A runner as in a new container, for playbook `book`, its log lines and metrics printed to stdout."""
    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.logging.constants import LOGGER_ATTRIBUTE_PRECONFIGURED

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Parry")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "parry")
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "INFO")
    monkeypatch.setenv("PARRY_PLAYBOOK", book)
    monkeypatch.setenv("PARRY_PLAYBOOKS_DIR", str(playbooks_dir))
    compile_to(load_file(ROOT / "playbooks" / f"{book}.yaml"), playbooks_dir)
    # powertools configures the "parry" logger once per process, onto the stdout of that moment
    log = logging.getLogger("parry")
    monkeypatch.setattr(log, "handlers", [])
    monkeypatch.setattr(log, LOGGER_ATTRIBUTE_PRECONFIGURED, False, raising=False)
    monkeypatch.setattr(log, "powertools_handler", None, raising=False)
    Metrics(namespace="Parry", service="parry").clear_metrics()  # one metric set per process
    return Runner()


def printed(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """The JSON documents (log lines, EMF metrics) printed since the last call."""
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip().startswith("{")]


def metrics(records: list[dict[str, Any]]) -> dict[str, list[float]]:
    """Metric name -> values, from the EMF documents among `records`."""
    found: dict[str, list[float]] = {}
    for doc in records:
        for directive in doc.get("_aws", {}).get("CloudWatchMetrics", []):
            for metric in directive["Metrics"]:
                value = doc[metric["Name"]]
                found.setdefault(metric["Name"], []).extend(value if isinstance(value, list) else [value])
    return found
