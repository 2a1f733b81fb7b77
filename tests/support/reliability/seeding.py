"""What every seed is made of: the `Seeded` incident, the containment read-back, and the resources
and findings several seeds share (tests/support/reliability/seeds*.py).

Every scenario needs a fresh, real-looking incident per run: a `Seeded` holds the event (a real
fixture retargeted at the new resources) and a read-back of containment that asks the actions
themselves, so a scenario can check the account and not only the case record.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from parry.aws.clients import ClientFactory
from tests.support.reliability.fixtures import load_event, load_playbook, playbook_paths
from tests.support.reliability.world import ACCOUNT, REGION

IAM_FINDING = "guardduty/unauthorizedaccess-iamuser-instancecredentialexfiltration-outsideaws.bare.json"


@dataclass
class Seeded:
    """Resources a playbook acts on, the event that points at them, and a read-back of containment."""

    event: dict[str, Any]
    contained: Callable[[], bool]
    restore: Callable[[], None] | None = None  # undo the containment behind Parry's back


def contained_by(aws: ClientFactory, book_name: str, event: dict[str, Any]) -> Callable[[], bool]:
    """Containment read back generically: every mutating step the playbook would run observes `done`.

    Evidence and the note on the Security Hub finding are records of the case, not containment.
    Steps whose parameters come from earlier steps' results cannot be read back so: those seeds
    read the account themselves.
    """

    def check() -> bool:
        from parry.actions import registry
        from parry.engine import intake
        from parry.routing.expressions import interpolate, search, truthy
        from parry.routing.finding_view import finding_view

        book = load_playbook(next(p for p in playbook_paths() if load_playbook(p).name == book_name))
        target, _ = intake.resolve(book, event)
        view = finding_view(event)
        variables = {
            "event": event,
            "finding": view.as_dict() if view else None,
            "target": target,
            "case": {},
            "steps": {},
        }
        for step in book.steps:
            cls = registry.get(step.action)
            if (
                not cls.mutating
                or step.action.startswith(("evidence.", "securityhub."))
                or (step.when and not truthy(search(step.when, variables)))
            ):
                continue
            if not in_effect(aws, step.action, interpolate(step.with_, variables), book.name, step.id):
                return False
        return True

    return check


def in_effect(
    aws: ClientFactory, action: str, values: dict[str, Any], book_name: str = "check", step_id: str = "check"
) -> bool:
    """Whether the action's change is in place, as the action itself observes it."""
    from parry.actions import registry
    from parry.actions.base import ActionContext

    cls = registry.get(action)
    ctx = ActionContext(aws=aws, case_id="check", step_id=step_id, playbook=book_name, account=ACCOUNT, region=REGION)
    return cls().observe(ctx, registry.build_params(cls, values)).done


def make_role(aws: ClientFactory, name: str, service: str = "lambda.amazonaws.com") -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }
    return aws.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def code_package(returns: str = "ok") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", f"def handler(event, context):\n    return {returns!r}\n")
    return buf.getvalue()


def make_function(aws: ClientFactory, name: str, role_arn: str, environment: dict[str, str] | None = None) -> str:
    kwargs: dict[str, Any] = {"Environment": {"Variables": environment}} if environment else {}
    return aws.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role_arn,
        Handler="index.handler",
        Code={"ZipFile": code_package()},
        **kwargs,
    )["FunctionArn"]


_IMAGES: dict[int, str] = {}


def make_instance(aws: ClientFactory, profile_arn: str | None = None) -> str:
    """An instance in a VPC of its own (isolation creates one security group per VPC, once)."""
    ec2 = aws.client("ec2")
    if id(aws) not in _IMAGES:
        _IMAGES[id(aws)] = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    kwargs: dict[str, Any] = {
        "ImageId": _IMAGES[id(aws)],
        "MinCount": 1,
        "MaxCount": 1,
        "InstanceType": "t3.micro",
        "SubnetId": subnet,
    }
    if profile_arn:
        kwargs["IamInstanceProfile"] = {"Arn": profile_arn}
    return ec2.run_instances(**kwargs)["Instances"][0]["InstanceId"]


def guardduty_event(relpath: str, n: int) -> dict[str, Any]:
    """A GuardDuty fixture in moto's account and region, as finding number `n` (its own event id too),
    without the sample mark AWS's published samples carry: it stands for a real detection."""
    from parry.local.corrections import as_detection

    event = load_event(relpath)
    event["detail"] = as_detection(event["detail"])
    event["account"] = event["detail"]["accountId"] = ACCOUNT
    event["region"] = event["detail"]["region"] = REGION
    event["id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"parry-reliability-{n}"))
    event["detail"]["id"] = f"rel-finding-{n}"
    event["detail"]["arn"] = f"arn:aws:guardduty:{REGION}:{ACCOUNT}:detector/rel-detector/finding/rel-finding-{n}"
    return event


def recorded(aws: ClientFactory, event: dict[str, Any]) -> dict[str, Any]:
    """The event once its service holds it (CloudTrail's history, Inspector, Access Analyzer), for
    the engine's re-read."""
    from parry.local.corrections import register_finding

    register_finding(aws, event)
    return event


def in_security_hub(aws: ClientFactory, event: dict[str, Any]) -> None:
    """The GuardDuty finding as Security Hub holds it, for the playbooks' mark-finding step, and as
    GuardDuty holds it, for the engine's re-read."""
    from parry.local.corrections import register_finding
    from parry.local.sandbox import guardduty_finding_in_security_hub

    guardduty_finding_in_security_hub(aws, event)
    register_finding(aws, event)
