"""The global kill switch: `on` turns every playbook into a dry run (plan, record, notify)."""

from __future__ import annotations

from aws_cdk import aws_ssm as ssm
from constructs import Construct

PARAMETER_NAME = "/parry/kill-switch"


class KillSwitch(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, parameter_name: str = PARAMETER_NAME) -> None:
        super().__init__(scope, construct_id)
        self.parameter = ssm.StringParameter(
            self,
            "Parameter",
            parameter_name=parameter_name,
            string_value="off",
            allowed_pattern="^(on|off)$",
            description="Parry kill switch: 'on' makes every playbook a dry run",
            tier=ssm.ParameterTier.STANDARD,
        )
