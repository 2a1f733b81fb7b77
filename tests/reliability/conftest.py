"""Reliability scenarios: a fresh in-process moto world per test (see reliability_harness)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # reliability_harness: shared with bench/reliability.py

import reliability_harness as rh  # noqa: E402


@pytest.fixture
def world(aws_env):
    with rh.moto_world() as w:
        yield w

