"""Alarms on `SecurityRejections`: a forged, unauthenticated or unauthorized request refused by a
runner or by the front door. Each is someone trying Parry's powers without the right to: one is
enough to tell the on-call.

The metric comes from Powertools Metrics (namespace `Parry`, dimensions `service=parry` and
`playbook=<name>`, `playbook=control-plane` for the front door); one alarm per emitter, since an
alarm on a metric must name all of its dimensions.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from stacks.constructs.dashboard import CONTROL_PLANE_DIMENSION, NAMESPACE, SERVICE

METRIC = "SecurityRejections"
PERIOD_SECONDS = 300


class SecurityAlarms(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, playbooks: Sequence[str], topic_arn: str) -> None:
        super().__init__(scope, construct_id)
        self.alarms: dict[str, cloudwatch.CfnAlarm] = {}
        for index, emitter in enumerate([CONTROL_PLANE_DIMENSION, *playbooks]):
            where = "the front door" if emitter == CONTROL_PLANE_DIMENSION else f"the runner of playbook {emitter}"
            self.alarms[emitter] = cloudwatch.CfnAlarm(
                self,
                f"Rejections{index}",
                alarm_name=f"parry-{emitter}-security-rejections",
                alarm_description=f"Parry: {where} refused a forged or unauthorized request (see its security event log)",
                namespace=NAMESPACE,
                metric_name=METRIC,
                dimensions=[
                    cloudwatch.CfnAlarm.DimensionProperty(name="playbook", value=emitter),
                    cloudwatch.CfnAlarm.DimensionProperty(name="service", value=SERVICE),
                ],
                statistic="Sum",
                period=PERIOD_SECONDS,
                evaluation_periods=1,
                threshold=1,
                comparison_operator="GreaterThanOrEqualToThreshold",
                treat_missing_data="notBreaching",
                alarm_actions=[topic_arn],
            )
