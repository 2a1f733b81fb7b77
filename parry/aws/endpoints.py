"""Which AWS endpoint Parry talks to: a local one (moto, `parry local`) or AWS itself."""

from __future__ import annotations

import os
from urllib.parse import urlparse

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def is_local(endpoint: str | None = None) -> bool:
    """Whether `endpoint` (default: AWS_ENDPOINT_URL, as boto3 reads it) is on this machine."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "") if endpoint is None else endpoint
    return bool(endpoint) and urlparse(endpoint).hostname in LOCAL_HOSTS
