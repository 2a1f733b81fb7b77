"""`parry sweep --respond` on a local endpoint: each answerable result starts its response playbook through
the front door as the local on-call, nothing changes before a second person approves, the approved
change is read back and undone as the on-call would, and no seeded secret value appears in what the
command printed or the cases recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.actions import lambda_zip
from tests.support.local_endpoint import bootstrapped, endpoint_client, run_parry
from tests.support.posture import SEEDED_SECRETS, TRUST

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def local():
    """A moto server with Parry's resources bootstrapped, and the shipped playbooks."""
    with bootstrapped(PARRY_PLAYBOOKS_DIR=str(ROOT / "playbooks")) as endpoint:
        yield endpoint


client = endpoint_client


parry = run_parry


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

    out = parry(local, "sweep", "--respond", "--reason", "INC-9", "--json")

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
