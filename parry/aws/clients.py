"""The one place boto3 clients are made.

Honours the standard boto3 configuration (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL) and can act in
another account through an assumed role, and in another region (`in_region`: the same credentials,
clients made for that region). STS is always called on the regional endpoint of the client's
region: session tokens from the global endpoint are not valid in opt-in regions. Clients use botocore's adaptive retry mode with a bounded
attempt budget, so throttling slows a run down instead of failing it.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import boto3

DEFAULT_MAX_ATTEMPTS = 12  # 30 % throttling needs 12 (measured: 8 failed ~0.7 % of runs); see docs/benchmarks.md


def retry_config(max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> Any:
    from botocore.config import Config

    return Config(retries={"mode": "adaptive", "max_attempts": max_attempts})


GLOBAL_STS = "https://sts.amazonaws.com"


def regional_sts(session: boto3.Session, region: str, config: Any) -> Any:
    """An STS client on `region`'s own endpoint, as botocore makes by default (`sts_regional_endpoints`).

    A configuration that still says `legacy` would send the aws partition's calls to the global
    endpoint, whose session tokens opt-in regions refuse: that one is replaced by the regional
    endpoint (the global endpoint exists in the aws partition only).
    """
    client = session.client("sts", region_name=region, config=config)
    if client.meta.endpoint_url.rstrip("/") == GLOBAL_STS and region != "aws-global":
        client = session.client(
            "sts", region_name=region, endpoint_url=f"https://sts.{region}.amazonaws.com", config=config
        )
    return client


def _assume(sts: Any, role_arn: str, *, external_id: str | None, session_name: str) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": session_name}
    if external_id:
        kwargs["ExternalId"] = external_id
    return sts.assume_role(**kwargs)["Credentials"]


_LOADER: Any = None


def new_session(**kwargs: Any) -> boto3.Session:
    """A boto3 session on the process's one botocore loader, which caches each service model it decodes:
    a client made in another session (another account's role, another profile) does not decode its
    service's JSON again (~10-30 ms a service)."""
    import boto3
    import botocore.session

    global _LOADER
    core = botocore.session.get_session()
    if _LOADER is None:
        _LOADER = core.get_component("data_loader")
    else:
        core.register_component("data_loader", _LOADER)
    session = boto3.Session(botocore_session=core, **kwargs)
    _LOADER.search_paths[:] = list(dict.fromkeys(_LOADER.search_paths))  # each session appends boto3's folder again
    return session


def _session(creds: dict[str, Any], region: str | None) -> boto3.Session:
    return new_session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=region,
    )


def assume_role_session(
    base: boto3.Session, role_arn: str, *, external_id: str | None = None, session_name: str = "parry"
) -> boto3.Session:
    """A session holding temporary credentials for `role_arn`, obtained with `base`'s identity."""
    region = base.region_name or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    creds = _assume(
        regional_sts(base, region, retry_config()), role_arn, external_id=external_id, session_name=session_name
    )
    return _session(creds, base.region_name)


class ClientFactory:
    """Caches one client per (service, region), each made on first use, on a lazily made boto3 session; thread-safe."""

    def __init__(
        self,
        *,
        region: str | None = None,
        profile: str | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        session: boto3.Session | None = None,
    ):
        self._region = region
        self._profile = profile
        self._max_attempts = max_attempts
        self._session = session
        self._clients: dict[tuple[str, str | None], Any] = {}
        self._regional: dict[str, ClientFactory] = {}
        self._lock = threading.Lock()
        # set on a factory made by `assume`: whose credentials it holds, and until when (epoch seconds)
        self.role_arn: str | None = None
        self.session_name: str | None = None
        self.expires_at: float | None = None

    @property
    def session(self) -> boto3.Session:
        if self._session is None:
            self._session = new_session(profile_name=self._profile, region_name=self._region)
        return self._session

    @property
    def region(self) -> str:
        return self._region or self.session.region_name or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"

    def client(self, service: str, region: str | None = None) -> Any:
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                name, config = region or self.region, retry_config(self._max_attempts)
                self._clients[key] = (
                    regional_sts(self.session, name, config)
                    if service == "sts"
                    else self.session.client(service, region_name=name, config=config)
                )
            return self._clients[key]

    def in_region(self, region: str) -> ClientFactory:
        """This factory's credentials, its clients made for `region` (its own region: itself); cached."""
        if region == self.region:
            return self
        with self._lock:
            if region not in self._regional:
                factory = ClientFactory(region=region, max_attempts=self._max_attempts, session=self.session)
                factory.role_arn, factory.session_name = self.role_arn, self.session_name
                factory.expires_at = self.expires_at
                self._regional[region] = factory
            return self._regional[region]

    def assume(self, role_arn: str, *, external_id: str | None = None, session_name: str = "parry") -> ClientFactory:
        """A factory acting as `role_arn` (e.g. Parry's role in a member account).

        The credentials are temporary: `expires_at` says until when, and the caller makes a new
        factory before then (they are never refreshed in place, nor written anywhere).
        """
        creds = _assume(self.client("sts"), role_arn, external_id=external_id, session_name=session_name)
        factory = ClientFactory(max_attempts=self._max_attempts, session=_session(creds, self.region))
        factory.role_arn, factory.session_name = role_arn, session_name
        factory.expires_at = creds["Expiration"].timestamp()
        return factory
