"""One CloudWatch dashboard: runs, failures, step duration, containment latency, rejected events
and findings, security rejections (runners and the front door), DLQ depth.

The handler emits these with Powertools Metrics in namespace `Parry`, dimensions `service=parry`
(Powertools adds it) and `playbook=<name>`; a metric matches only with exactly those dimensions.
The body is written as CloudWatch's dashboard JSON in one piece: one metric line per playbook and
graph costs nothing at synth, where a CDK Metric object per line is a jsii round trip each.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from stacks.tokens import REGION

NAMESPACE = "Parry"
SERVICE = "parry"
PERIOD_SECONDS = 300
CONTROL_PLANE_DIMENSION = "control-plane"  # the front door's `playbook` dimension
DLQ_PERIOD_SECONDS = 60


class ParryDashboard(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dashboard_name: str,
        playbooks: Sequence[str],
        dlq_names: Mapping[str, str],
    ) -> None:
        """`dlq_names`: each playbook's dead-letter queue name."""
        super().__init__(scope, construct_id)

        def parry_graph(title: str, metric: str, stat: str, *, also: Sequence[str] = ()) -> dict[str, Any]:
            lines = [
                [NAMESPACE, metric, "playbook", p, "service", SERVICE, {"stat": stat, "label": p}]
                for p in [*playbooks, *also]
            ]
            return _graph(title, lines, PERIOD_SECONDS, width=12)

        depth = [
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue, {"stat": "Maximum", "label": p}]
            for p, queue in dlq_names.items()
        ]
        rows = [
            [parry_graph("Runs", "Runs", "Sum"), parry_graph("Failures", "Failures", "Sum")],
            [
                parry_graph("Step duration (p90, ms)", "StepDuration", "p90"),
                parry_graph("Containment latency (p90, s)", "ContainmentLatency", "p90"),
            ],
            [
                parry_graph("Rejected events (malformed, unroutable, refused)", "RejectedEvents", "Sum"),
                parry_graph("Rejected findings (Security Hub custom actions)", "RejectedFindings", "Sum"),
            ],
            [
                parry_graph("Undos carried out", "Undos", "Sum"),
                parry_graph(
                    "Security rejections (forged or unauthorized requests)",
                    "SecurityRejections",
                    "Sum",
                    also=[CONTROL_PLANE_DIMENSION],
                ),
            ],
            [_graph("Dead-letter queue depth", depth, DLQ_PERIOD_SECONDS, width=24)],
        ]
        widgets = []
        for y, row in enumerate(rows):
            x = 0
            for widget in row:
                if widget["properties"]["metrics"]:  # CloudWatch refuses a graph without metrics
                    widgets.append({**widget, "x": x, "y": y * 6})
                    x += widget["width"]
        self.dashboard = cloudwatch.CfnDashboard(
            self,
            "Dashboard",
            dashboard_name=dashboard_name,
            dashboard_body=json.dumps({"widgets": widgets}, separators=(",", ":")),
        )


def _graph(title: str, lines: list[list[Any]], period: int, *, width: int) -> dict[str, Any]:
    return {
        "type": "metric",
        "width": width,
        "height": 6,
        "properties": {
            "view": "timeSeries",
            "title": title,
            "region": REGION,
            "metrics": lines,
            "period": period,
        },
    }
