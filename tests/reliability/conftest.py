"""Reliability scenarios: a fresh in-process moto world per test (see tests/support/reliability)."""

from __future__ import annotations

import pytest

from tests.support.reliability.world import moto_world


@pytest.fixture
def world(aws_env):
    with moto_world() as w:
        yield w
