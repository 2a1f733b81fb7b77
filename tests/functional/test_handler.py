"""The runner Lambda handler: powertools metrics (EMF on stdout) and structured logs for a run, a
failure and a malformed event, which is rejected by name and raised (Lambda retries it, then the
DLQ: never an infinite loop)."""

from __future__ import annotations

import importlib.util
import json
import logging
from pathlib import Path

import pytest

from parry.cli.common import compile_to
from parry.errors import EventError
from parry.validation import load_file

ROOT = Path(__file__).resolve().parents[2]
BOOK = "iam-credential-compromise"


class Context:
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:parry-runner-iam"
    function_name = "parry-runner-iam"
    aws_request_id = "request-1"
    memory_limit_in_mb = 256

    def get_remaining_time_in_millis(self) -> int:
        return 600_000


@pytest.fixture
def handler(monkeypatch, tmp_path):
    """A fresh handler module (its powertools objects are made on first use, with this env)."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Parry")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "parry")
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "INFO")
    monkeypatch.setenv("PARRY_PLAYBOOK", BOOK)
    monkeypatch.setenv("PARRY_PLAYBOOKS_DIR", str(tmp_path))
    compile_to(load_file(ROOT / "playbooks" / f"{BOOK}.yaml"), tmp_path)
    # powertools configures the "parry" logger once per process, onto the stdout of that moment:
    # start afresh so this test's captured stdout receives the log lines
    from aws_lambda_powertools.logging.constants import LOGGER_ATTRIBUTE_PRECONFIGURED

    log = logging.getLogger("parry")
    monkeypatch.setattr(log, "handlers", [])
    monkeypatch.setattr(log, LOGGER_ATTRIBUTE_PRECONFIGURED, False, raising=False)
    monkeypatch.setattr(log, "powertools_handler", None, raising=False)
    # powertools shares one metric set per process, and earlier in-process runs with metrics
    # disabled (the CLI's) never flush it: start from an empty set
    from aws_lambda_powertools import Metrics

    Metrics(namespace="Parry", service="parry").clear_metrics()
    spec = importlib.util.spec_from_file_location("parry_runner_handler_test", ROOT / "functions" / "runner" / "handler.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    continued = []
    monkeypatch.setattr(module, "_continue_later", lambda *a: continued.append(a))
    module.continued = continued
    return module


def lines(capsys) -> list[dict]:
    out = []
    for line in capsys.readouterr().out.splitlines():
        line = line.strip()
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def emf(records) -> dict:
    """Metric name -> values, from the EMF documents printed (CloudWatch embedded metric format)."""
    metrics: dict[str, list] = {}
    for doc in records:
        if "_aws" not in doc:
            continue
        for directive in doc["_aws"]["CloudWatchMetrics"]:
            assert directive["Namespace"] == "Parry"
            for metric in directive["Metrics"]:
                value = doc[metric["Name"]]
                metrics.setdefault(metric["Name"], []).extend(value if isinstance(value, list) else [value])
    return metrics


def test_a_run_emits_runs_step_durations_and_containment_latency(handler, engine, compromised_user, capsys):
    result = handler.handler(compromised_user["event"], Context())

    assert result["status"] == "SUCCEEDED" and result["duplicate"] is False
    records = lines(capsys)
    metrics = emf(records)
    assert metrics["Runs"] == [1.0]
    assert "Failures" not in metrics
    assert len(metrics["StepDuration"]) == len(load_file(ROOT / "playbooks" / f"{BOOK}.yaml").steps)
    assert all(v >= 0 for v in metrics["StepDuration"])
    assert len(metrics["ContainmentLatency"]) == 1 and metrics["ContainmentLatency"][0] > 0
    doc = next(d for d in records if "_aws" in d)
    assert doc["playbook"] == BOOK and ["playbook", "service"] in doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
    log = next(d for d in records if d.get("message") == "case")
    assert log["level"] == "INFO" and log["case_id"] == result["case_id"] and log["status"] == "SUCCEEDED"
    assert handler.continued == []


def test_a_redelivery_counts_a_run_but_no_second_containment(handler, engine, compromised_user, capsys):
    handler.handler(compromised_user["event"], Context())
    capsys.readouterr()

    again = handler.handler(compromised_user["event"], Context())

    metrics = emf(lines(capsys))
    assert again["duplicate"] is True
    assert metrics["Runs"] == [1.0] and "ContainmentLatency" not in metrics


def test_a_failed_case_counts_a_failure(handler, engine, compromised_user, capsys):
    event = json.loads(json.dumps(compromised_user["event"]))
    event["detail"]["resource"]["accessKeyDetails"]["userName"] = "nobody-here"

    result = handler.handler(event, Context())

    assert result["status"] == "FAILED"
    metrics = emf(lines(capsys))
    assert metrics["Runs"] == [1.0] and metrics["Failures"] == [1.0]
    assert "ContainmentLatency" not in metrics


@pytest.mark.parametrize("event, reason", [
    ({"source": "aws.guardduty", "detail-type": "GuardDuty Finding"}, "missing detail"),
    (["not", "an", "object"], "must be a JSON object"),
    ({"source": "aws.guardduty", "detail-type": "GuardDuty Finding", "detail": "text"}, "detail must be an object"),
    ({"source": "parry", "detail-type": "Parry Run Request", "detail": {"continue_case": {"a": 1}}}, "continue_case"),
])
def test_a_malformed_event_is_logged_counted_and_raised(handler, engine, event, reason, capsys):
    with pytest.raises(EventError, match=reason):
        handler.handler(event, Context())

    records = lines(capsys)
    log = next(d for d in records if d.get("message") == "event rejected")
    assert log["level"] == "ERROR" and reason in log["reason"] and log["playbook"] == BOOK
    assert emf(records) == {"RejectedEvents": [1.0]}
    assert handler.continued == []  # a rejection never re-invokes anything


def test_an_event_for_another_playbook_is_rejected_not_run(handler, engine, load_event, capsys):
    event = load_event("cloudtrail/s3-putbucketpolicy-public.bare.json")
    with pytest.raises(EventError, match="does not match the trigger"):
        handler.handler(event, Context())
    assert emf(lines(capsys)) == {"RejectedEvents": [1.0]}
