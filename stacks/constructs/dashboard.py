"""One CloudWatch dashboard: runs, failures, step duration, containment latency, DLQ depth.

The handler emits these with Powertools Metrics in namespace `Parry`, dimensions `service=parry`
(Powertools adds it) and `playbook=<name>`; a metric matches only with exactly those dimensions.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

NAMESPACE = "Parry"
SERVICE = "parry"
PERIOD = Duration.minutes(5)


def parry_metric(name: str, playbook: str, statistic: str, unit_label: str = "") -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=NAMESPACE,
        metric_name=name,
        dimensions_map={"playbook": playbook, "service": SERVICE},
        statistic=statistic,
        period=PERIOD,
        label=f"{playbook}{unit_label}",
    )


class ParryDashboard(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dashboard_name: str,
        playbooks: list[str],
        dlq_depth: Mapping[str, cloudwatch.IMetric],
    ) -> None:
        super().__init__(scope, construct_id)

        def graph(title: str, name: str, statistic: str, unit: str = "") -> cloudwatch.GraphWidget:
            return cloudwatch.GraphWidget(
                title=title,
                width=12,
                left=[parry_metric(name, p, statistic, unit) for p in playbooks],
            )

        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=dashboard_name)
        self.dashboard.add_widgets(
            graph("Runs", "Runs", "Sum"),
            graph("Failures", "Failures", "Sum"),
        )
        self.dashboard.add_widgets(
            graph("Step duration (p90, ms)", "StepDuration", "p90"),
            graph("Containment latency (p90, s)", "ContainmentLatency", "p90"),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Dead-letter queue depth",
                width=24,
                left=[m.with_(label=p) if isinstance(m, cloudwatch.Metric) else m for p, m in dlq_depth.items()],
            )
        )
