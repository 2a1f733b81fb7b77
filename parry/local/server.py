"""Local mode's endpoint: a moto server on 127.0.0.1, and the guard that keeps local mode local.

`require_local_endpoint` refuses any endpoint that is not this machine, so a mistyped profile can
never point `parry local bootstrap` or the demo at a real account.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from parry.aws.endpoints import LOCAL_HOSTS
from parry.errors import ConfigError
from parry.local.corrections import moto_like_aws, sign_digests_like_kms

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer


def require_local_endpoint(endpoint: str | None = None) -> str:
    """`endpoint` (default: AWS_ENDPOINT_URL) if it is on this machine; ConfigError otherwise."""
    endpoint = endpoint or os.environ.get("AWS_ENDPOINT_URL", "")
    host = urlparse(endpoint).hostname if endpoint else None
    if host not in LOCAL_HOSTS:
        raise ConfigError(
            "local bootstrap only runs against a local endpoint: set AWS_ENDPOINT_URL=http://127.0.0.1:PORT "
            f"(it is {endpoint or 'unset'})"
        )
    return endpoint


def require_answering(endpoint: str, timeout_seconds: float = 2.0) -> None:
    """ConfigError unless something accepts connections at the local `endpoint`: said at once, rather
    than after every call's retries against a port nothing listens on."""
    import socket

    parsed = urlparse(endpoint)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", port), timeout=timeout_seconds):
            return
    except OSError as exc:
        raise ConfigError(
            f"nothing answers at {endpoint} ({exc.strerror or exc}): start one with `parry local serve` "
            "(or point AWS_ENDPOINT_URL at the one you started)"
        ) from exc


@dataclass
class LocalServer:
    """A moto server on 127.0.0.1 and a free port, for the demo and the end-to-end tests."""

    server: ThreadedMotoServer
    endpoint: str

    @classmethod
    def start(cls) -> LocalServer:
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # moto's own 500s are not ours to print
        sign_digests_like_kms()
        moto_like_aws()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        return cls(server, f"http://127.0.0.1:{server.get_host_and_port()[1]}")

    def stop(self) -> None:
        self.server.stop()
