"""`parry demo` end to end against a moto server on 127.0.0.1, then read back with the CLI and boto3."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass

import boto3
import pytest


@dataclass
class Served:
    endpoint: str


@pytest.fixture
def server():
    """`parry local serve` in its own process, as a user starts it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "parry", "local", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = process.stdout.readline().strip()
        assert line.startswith("AWS_ENDPOINT_URL=http://127.0.0.1:"), line
        yield Served(line.split("=", 1)[1])
    finally:
        process.terminate()
        process.wait(timeout=30)


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "parry", *args], capture_output=True, text=True, env=env, timeout=300)


def test_demo_contains_every_scenario_and_the_case_is_there_afterwards(server):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARRY_")}
    demo = cli("demo", "--endpoint", server.endpoint, env=env)
    assert demo.returncode == 0, demo.stderr
    assert "NOT contained" not in demo.stdout
    assert "is Inactive" in demo.stdout and "status SUCCEEDED" in demo.stdout
    # both GuardDuty scenarios mark their finding in Security Hub, the others have none to mark
    assert demo.stdout.count("Security Hub finding is NOTIFIED") == 2

    env.update(
        AWS_ENDPOINT_URL=server.endpoint,
        AWS_ACCESS_KEY_ID="parry-local",
        AWS_SECRET_ACCESS_KEY="parry-local",
        PARRY_EVIDENCE_BUCKET="parry-evidence-local",
        PARRY_CASES_TABLE="parry-cases",
    )
    listed = json.loads(cli("cases", "list", "--json", env=env).stdout)
    case_id = next(c["case_id"] for c in listed if c["playbook"] == "iam-credential-compromise")
    assert case_id in demo.stdout

    shown = json.loads(cli("cases", "show", case_id, "--json", env=env).stdout)
    assert shown["status"] == "SUCCEEDED"
    user, key = shown["target"]["user"], shown["target"]["key"]
    iam = boto3.client(
        "iam",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id="parry-local",
        aws_secret_access_key="parry-local",
    )
    status = next(
        k["Status"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"] if k["AccessKeyId"] == key
    )
    assert status == "Inactive"

    hub = boto3.client(
        "securityhub",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id="parry-local",
        aws_secret_access_key="parry-local",
    )
    arn = shown["target"]["finding_arn"]
    (finding,) = hub.get_findings(Filters={"Id": [{"Value": arn, "Comparison": "EQUALS"}]})["Findings"]
    assert finding["Workflow"]["Status"] == "NOTIFIED"
    assert finding["Note"]["Text"] == f"Parry playbook iam-credential-compromise, case {case_id}"
