"""`parry sweep --respond` on a local endpoint: each answerable result starts its response playbook through
the front door as the local on-call, nothing changes before a second person approves, the approved
change is read back and undone as the on-call would, and no seeded secret value appears in what the
command printed or the cases recorded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from tests.support.actions import lambda_zip
from tests.support.posture import SEEDED_SECRETS, TRUST

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def local():
    """A moto server with Parry's resources bootstrapped, the shipped playbooks, and two functions to answer."""
    from parry.local.server import LocalServer

    server = LocalServer.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARRY_", "AWS_"))}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION="us-east-1",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL=server.endpoint,
        PYTHONPATH=str(ROOT),
        PARRY_PLAYBOOKS_DIR=str(ROOT / "playbooks"),
    )
    out = subprocess.run(
        [sys.executable, "-m", "parry", "local", "bootstrap"], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    for line in out.stdout.splitlines():
        key, _, value = line.partition("=")
        env[key] = value
    yield {"env": env, "endpoint": server.endpoint}
    server.stop()


def client(local, service):
    return boto3.client(
        service,
        endpoint_url=local["endpoint"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def parry(local, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "parry", *args], env=local["env"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_sweep_respond_starts_each_response_as_the_oncall_and_changes_nothing_before_approval(local):
    lam, iam = client(local, "lambda"), client(local, "iam")
    role = iam.create_role(RoleName="fn-respond", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    for name, extra in (("open-url", {}), ("leaky-env", {"Environment": {"Variables": dict(SEEDED_SECRETS)}})):
        lam.create_function(
            FunctionName=name,
            Runtime="python3.13",
            Role=role,
            Handler="index.handler",
            Code={"ZipFile": lambda_zip()},
            **extra,
        )
    lam.create_function_url_config(FunctionName="open-url", AuthType="NONE")

    out = subprocess.run(
        [sys.executable, "-m", "parry", "sweep", "--respond", "--reason", "INC-9", "--json"],
        env=local["env"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert out.returncode == 1, out.stderr  # found something
    results = json.loads(out.stdout)
    url = next(x for x in results if x["check_id"] == "PARRY-LAMBDA-1")
    assert url["response"] == f"parry run lambda-url-public --target function={url['resource_arn']}"
    started = [line for line in out.stderr.splitlines() if line.startswith("started ")]
    assert any("lambda-url-public" in line and "AWAITING_APPROVAL" in line for line in started), out.stderr
    assert any("lambda-env-secrets" in line and "SUCCEEDED" in line for line in started), out.stderr
    assert lam.get_function_url_config(FunctionName="open-url")["AuthType"] == "NONE"  # waits for a second person
    table = client(local, "dynamodb").scan(TableName=local["env"]["PARRY_CASES_TABLE"])["Items"]
    for value in SEEDED_SECRETS.values():
        assert value not in out.stdout and value not in out.stderr and value not in json.dumps(table)

    # the second person approves; the URL then needs IAM auth; the on-call undoes it, approved again
    (case_id,) = [line.split(": case ")[1].split()[0] for line in started if "lambda-url-public" in line]
    approved = parry(local, "approve", case_id, "--as", "parry-approver", "--reason", "confirmed with the owner")
    assert approved.returncode == 0, approved.stderr
    assert lam.get_function_url_config(FunctionName="open-url")["AuthType"] == "AWS_IAM"
    undone = parry(local, "undo", case_id, "--reason", "the owner meant it public")
    assert undone.returncode == 0, undone.stderr
    assert lam.get_function_url_config(FunctionName="open-url")["AuthType"] == "AWS_IAM"  # opening it waits too
    again = parry(local, "approve", case_id, "--as", "parry-approver", "--reason", "the owner confirmed")
    assert again.returncode == 0, again.stderr
    assert lam.get_function_url_config(FunctionName="open-url")["AuthType"] == "NONE"
