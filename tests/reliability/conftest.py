"""Reliability scenarios: a fresh in-process moto world per test (see the reliability_harness package)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # reliability_harness: shared with bench/reliability.py

from reliability_harness.world import moto_world


@pytest.fixture
def world(aws_env):
    with moto_world() as w:
        yield w
