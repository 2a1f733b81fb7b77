"""Running actions the way the engine does: through `parry.engine.steps.execute`, on moto; and what they act on."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from parry.actions import registry
from parry.actions.base import ActionContext
from parry.engine.steps import execute
from parry.store.step_result import StepResult

ACCOUNT = "123456789012"  # moto's default account
PROTECTED = {"parry:protected": "true"}


def lambda_zip() -> bytes:
    """A small, valid Lambda code package."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return 1\n")
    return buf.getvalue()


def run(ctx: ActionContext, name: str, **params: Any) -> StepResult:
    cls = registry.get(name)
    return execute(cls(), ctx, registry.build_params(cls, params))


def run_undo(ctx: ActionContext, result: StepResult) -> StepResult:
    assert result.undo, f"{result.action} recorded no undo"
    return run(ctx, result.undo["action"], **result.undo["params"])


def assert_contract(ctx: ActionContext, name: str, **params: Any) -> StepResult:
    """First run changes state, second run is a recorded no-op; returns the first result."""
    first = run(ctx, name, **params)
    assert first.status == "succeeded", first.error
    assert first.before != first.after
    again = run(ctx, name, **params)
    assert again.status == "noop", again.error
    return first


def assert_missing(ctx: ActionContext, name: str, fragment: str, **params: Any) -> None:
    result = run(ctx, name, **params)
    assert result.status == "failed"
    assert fragment in (result.error or ""), result.error


def assert_refused(ctx: ActionContext, name: str, **params: Any) -> StepResult:
    result = run(ctx, name, **params)
    assert result.status == "refused", result.error
    assert "parry:protected" in (result.error or "")
    assert result.after is None and result.calls == []
    return result


def launch(ec2, net, tags: dict[str, str] | None = None) -> str:
    """An instance launched the usual way (SubnetId, SecurityGroupIds), with a second network interface.

    On moto this needs local mode's correction (parry.local.corrections.network_interface_groups_like_aws,
    installed by the `moto` fixture), without which the launch groups never leave its interfaces.
    """
    kwargs = {}
    if tags:
        kwargs["TagSpecifications"] = [
            {"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
        ]
    inst = ec2.run_instances(
        ImageId=net["ami"],
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        SubnetId=net["subnet"],
        SecurityGroupIds=[net["web"]],
        **kwargs,
    )["Instances"][0]
    eni = ec2.create_network_interface(SubnetId=net["subnet"], Groups=[net["web"]])["NetworkInterface"][
        "NetworkInterfaceId"
    ]
    ec2.attach_network_interface(NetworkInterfaceId=eni, InstanceId=inst["InstanceId"], DeviceIndex=1)
    return inst["InstanceId"]
