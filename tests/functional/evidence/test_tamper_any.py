"""Any single tampering with any object of a sealed case is detected and names that object.

Hypothesis picks the object and the operation an attacker with write and GOVERNANCE-bypass rights
could do; the verifier must report the case not intact and name the path, every time."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parry.evidence.problems import KINDS, NOT_SEALED
from parry.evidence.sources import S3Source
from parry.evidence.verify import verify_case
from tests.support.evidence import BUCKET, build_case

OPS = ("new-version", "same-bytes-version", "delete-marker", "purge", "replace-sealed-version", "add")
_ids = itertools.count()


def _lock():
    return {"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": datetime.now(UTC) + timedelta(days=30)}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    op=st.sampled_from(OPS),
    pick=st.integers(min_value=0, max_value=10_000),
    flip=st.integers(min_value=0, max_value=255),
)
def test_any_single_tampering_is_named(env, op, pick, flip):
    case = build_case(env, f"case-any-{next(_ids)}", approval=bool(pick % 2))
    s3, prefix = env.s3, case.prefix
    versions = s3.list_object_versions(Bucket=BUCKET, Prefix=prefix)["Versions"]
    target = sorted(v["Key"] for v in versions)[pick % len(versions)]
    rel = target[len(prefix) :]
    body = s3.get_object(Bucket=BUCKET, Key=target)["Body"].read()
    version = next(v["VersionId"] for v in versions if v["Key"] == target)
    if op == "new-version":
        changed = bytearray(body)
        changed[flip % len(changed)] ^= 0x01
        s3.put_object(Bucket=BUCKET, Key=target, Body=bytes(changed), **_lock())
    elif op == "same-bytes-version":
        s3.put_object(Bucket=BUCKET, Key=target, Body=body, **_lock())
    elif op == "delete-marker":
        s3.delete_object(Bucket=BUCKET, Key=target)
    elif op == "purge":
        s3.delete_object(Bucket=BUCKET, Key=target, VersionId=version, BypassGovernanceRetention=True)
    elif op == "replace-sealed-version":
        s3.put_object(Bucket=BUCKET, Key=target, Body=body + b" ", **_lock())
        s3.delete_object(Bucket=BUCKET, Key=target, VersionId=version, BypassGovernanceRetention=True)
    else:
        rel = f"artifacts/{rel.split('/')[0]}-{flip}/added.json"
        s3.put_object(Bucket=BUCKET, Key=prefix + rel, Body=b"{}", **_lock())

    result = verify_case(S3Source(s3, BUCKET, prefix))
    assert not result.ok, (op, rel)
    assert {p.kind for p in result.problems} <= set(KINDS), [str(p) for p in result.problems]
    named = {p.path for p in result.problems}
    if (
        op == "purge"
        and rel.endswith(".json")
        and rel.startswith("manifest/")
        and not any(
            k.startswith(prefix + "manifest/") and k.endswith(".json") and k != target
            for k in (v["Key"] for v in versions)
        )
    ):
        assert any(p.kind == NOT_SEALED for p in result.problems)
    else:
        assert rel in named or any(p.startswith(rel.rsplit(".", 1)[0]) for p in named), (
            op,
            rel,
            [str(p) for p in result.problems],
        )
