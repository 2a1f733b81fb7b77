"""The maintenance Lambda, run on a schedule: close cases whose approval window has passed.

One function for every playbook: it touches only the case table, the evidence (an audit record
and a new signed manifest per closed case) and the topic, never an account's resources.
"""

from __future__ import annotations

import os
from typing import Any


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    from aws_lambda_powertools import Logger, Metrics

    from parry.engine.approvals import expire_overdue
    from parry.aws.clients import ClientFactory
    from parry.engine.run import Engine
    from parry.config import Settings

    logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "parry"))
    metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Parry"), service="parry")
    closed = expire_overdue(Engine(ClientFactory(), Settings.from_env()))
    metrics.add_metric(name="ExpiredApprovals", unit="Count", value=len(closed))
    metrics.flush_metrics()
    logger.info("approval sweep", extra={"expired": closed})
    return {"expired": closed}
