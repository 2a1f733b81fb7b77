"""Least privilege in the synthesized templates: what a runner's or member role's credentials allow."""

from __future__ import annotations

import json

import pytest

from tests.support.synth import INSTANCE_ROLES, Synth
from tests.support.templates import as_list

pytestmark = pytest.mark.xdist_group("synth")


def _allows(template: dict, action: str) -> list[dict]:
    found = []
    for res in template["Resources"].values():
        if res["Type"] == "AWS::IAM::Role":
            docs = [p["PolicyDocument"] for p in res["Properties"].get("Policies", [])]
        elif res["Type"] == "AWS::IAM::Policy":
            docs = [res["Properties"]["PolicyDocument"]]
        else:
            continue
        found += [s for d in docs for s in d["Statement"] if s["Effect"] == "Allow" and action in as_list(s["Action"])]
    return found


@pytest.mark.parametrize("stack", ["Parry", "ParryMember"])
def test_roles_pass_to_ec2_only_and_only_the_deployers_instance_roles(synth: Synth, stack: str):
    granted = _allows(synth.templates[stack], "iam:PassRole")
    assert granted, "ec2-compromise restores instance profiles: some role passes roles"
    for st in granted:
        assert st["Condition"]["StringEquals"]["iam:PassedToService"] == "ec2.amazonaws.com"
        for resource in as_list(st["Resource"]):
            assert f":role/{INSTANCE_ROLES}" in str(resource), resource


def test_each_runner_writes_only_its_own_playbooks_claims_and_counters(synth: Synth):
    for name in synth.built.responder.runners:
        role = synth.built.responder.runners[name].role
        role_id = synth.built.responder.resolve(role.ref)["Ref"]
        writes = [
            s
            for s in synth.responder["Resources"][role_id]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
            if s["Effect"] == "Allow" and "dynamodb:PutItem" in as_list(s["Action"])
        ]
        assert writes, name
        for st in writes:
            keys = st["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
            assert sorted(keys) == sorted(["CASE#*", "NONCE#*", f"CLAIM#{name}#*", f"RATE#{name}#*", "RATE-ALL#*"]), (
                name
            )


def test_the_custom_resource_function_may_read_back_its_own_stacks_resources_only(synth: Synth):
    reads = _allows(synth.responder, "cloudformation:DescribeStackResource")
    assert len(reads) == 1 and as_list(reads[0]["Action"]) == ["cloudformation:DescribeStackResource"]
    assert ":stack/Parry/*" in json.dumps(reads[0]["Resource"])
