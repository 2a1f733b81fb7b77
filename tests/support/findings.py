"""Findings as the service holds them: tests register each GuardDuty or Security Hub finding they run.

Parry re-reads every such finding from its service before acting (parry.routing.findings), so a
test that runs one through the engine first puts it where the service would have it.
"""

from __future__ import annotations

from typing import Any

from parry.aws.clients import ClientFactory
from parry.local.corrections import register_finding
from parry.routing.findings import authentic_event


def registered(aws: ClientFactory, event: dict[str, Any]) -> dict[str, Any]:
    """`event` once its finding is in the local GuardDuty or Security Hub: as the service delivers it
    (the service's copy, which the engine stores and acts on)."""
    register_finding(aws, event)
    return authentic_event(event, aws)
