"""Settings: where Parry keeps its state, read from the environment the Lambda and the CLI share."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from parry.errors import ConfigError

DEFAULT_MAX_CASES_PER_HOUR = 100
REGION_NAME = re.compile(r"[a-z]{2,4}(-[a-z]+)+-\d{1,2}")


@dataclass(frozen=True)
class Settings:
    """Where Parry keeps its state; the Lambda gets the same names as environment variables."""

    evidence_bucket: str | None = None
    cases_table: str | None = None
    topic_arn: str | None = None
    signing_key_id: str | None = None
    # the KMS HMAC keys sealing control requests: the control plane's, and the runners' own continuations
    request_key_id: str | None = None
    continuation_key_id: str | None = None
    kill_switch_parameter: str | None = None
    protected_arns: tuple[str, ...] = ()
    retention_days: int = 365
    lock_mode: str = "GOVERNANCE"
    # every playbook's cases together, per hour, before each new one waits for approval (0: no cap)
    max_cases_per_hour: int = DEFAULT_MAX_CASES_PER_HOUR
    # the role the MemberAccount stack creates in each member account, and its ExternalId
    member_role_name: str | None = None
    member_external_id: str | None = None
    # an undo through the runner that gives access back waits for a second person's approval; off only
    # for a single-person setup, where everyone is the same identity anyway (see parry.engine.undo_approval)
    undo_needs_second_person: bool = True
    # the regions Parry acts in (PARRY_REGIONS, comma-separated); empty: its home region only
    # (parry.routing.placement refuses a finding whose resources are elsewhere)
    regions: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        env = dict(os.environ if env is None else env)
        values: dict[str, Any] = {
            "evidence_bucket": env.get("PARRY_EVIDENCE_BUCKET"),
            "cases_table": env.get("PARRY_CASES_TABLE"),
            "topic_arn": env.get("PARRY_TOPIC_ARN"),
            "signing_key_id": env.get("PARRY_SIGNING_KEY_ID"),
            "request_key_id": env.get("PARRY_REQUEST_KEY_ID") or None,
            "continuation_key_id": env.get("PARRY_CONTINUATION_KEY_ID") or None,
            "kill_switch_parameter": env.get("PARRY_KILL_SWITCH_PARAMETER"),
            "protected_arns": tuple(p.strip() for p in env.get("PARRY_PROTECTED_ARNS", "").split(",") if p.strip()),
            "retention_days": int(env.get("PARRY_RETENTION_DAYS", "365")),
            "lock_mode": env.get("PARRY_LOCK_MODE", "GOVERNANCE"),
            "max_cases_per_hour": int(env.get("PARRY_MAX_CASES_PER_HOUR") or DEFAULT_MAX_CASES_PER_HOUR),
            "member_role_name": env.get("PARRY_MEMBER_ROLE_NAME") or None,
            "member_external_id": env.get("PARRY_MEMBER_EXTERNAL_ID") or None,
            "undo_needs_second_person": env.get("PARRY_UNDO_NEEDS_SECOND_PERSON", "true").strip().lower()
            not in ("false", "0", "no", "off"),
            "regions": _regions(env.get("PARRY_REGIONS", "")),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def require(self) -> tuple[str, str]:
        """(evidence bucket, cases table): where a case is kept; ConfigError naming what is not set."""
        bucket, table = self.evidence_bucket, self.cases_table
        if not bucket or not table:
            missing = [
                env for env, value in (("PARRY_EVIDENCE_BUCKET", bucket), ("PARRY_CASES_TABLE", table)) if not value
            ]
            raise ConfigError(
                f"set {' and '.join(missing)} (or pass the matching flags; `parry local bootstrap` prints them)"
            )
        return bucket, table


def _regions(value: str) -> tuple[str, ...]:
    """PARRY_REGIONS as region names; ConfigError naming an entry that is not one."""
    regions = tuple(dict.fromkeys(r.strip() for r in value.split(",") if r.strip()))
    bad = [r for r in regions if not REGION_NAME.fullmatch(r)]
    if bad:
        raise ConfigError(f"PARRY_REGIONS: {', '.join(repr(r[:40]) for r in bad[:3])} is not an AWS region name")
    return regions
