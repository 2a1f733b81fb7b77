"""Shared fixtures: fake credentials, in-process moto, and an action context on it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "tests" / "events"


@pytest.fixture(autouse=True)
def aws_env(monkeypatch):
    """Never reach a real account: fake credentials and a fixed region for every test."""
    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    for var in [v for v in os.environ if v.startswith("PARRY_")]:
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def moto():
    from moto import mock_aws

    with mock_aws():
        yield


@pytest.fixture
def aws(moto):
    from parry.aws import ClientFactory

    return ClientFactory(region="us-east-1")
