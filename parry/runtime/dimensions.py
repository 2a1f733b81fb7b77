"""Every metric Parry emits names its playbook: one `playbook` default dimension per process.

Powertools keeps one dimension set per process (a local run of several playbooks, or a runner beside
the front door, share it), and some of its versions warn on every flush that a default dimension is
"already added" (3.23, the Lambda layer's, checks the defaults it re-adds itself). Replacing the
playbook is what Parry means to do, so that one warning is silenced here and nowhere else.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools import Metrics


def set_playbook(metrics: Metrics, playbook: str) -> None:
    """Dimension every later metric of this process by `playbook`."""
    from aws_lambda_powertools.warnings import PowertoolsUserWarning

    warnings.filterwarnings("ignore", "Dimension 'playbook' has already been added", PowertoolsUserWarning)
    if metrics.default_dimensions.get("playbook") != playbook:
        metrics.dimension_set.pop("playbook", None)
        metrics.set_default_dimensions(playbook=playbook)


def without_playbook(metrics: Metrics) -> None:
    """No `playbook` dimension on what follows (the maintenance sweep's metrics are no playbook's): in a
    process that also ran a playbook (locally, the tests), the one it left is dropped, not re-added."""
    metrics.default_dimensions.pop("playbook", None)
    metrics.dimension_set.pop("playbook", None)
