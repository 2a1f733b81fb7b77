"""RDS evidence actions on moto: capture without secrets, one snapshot per case (the cluster's for Aurora)."""

from __future__ import annotations

import json

import pytest

from tests.support.actions import assert_missing, run


@pytest.fixture
def rds(aws):
    return aws.client("rds")


def test_an_aurora_instance_gets_a_cluster_snapshot_once(ctx, rds):
    rds.create_db_cluster(
        DBClusterIdentifier="ledger",
        Engine="aurora-postgresql",
        MasterUsername="admin",
        MasterUserPassword="cluster-secret-1",
    )
    rds.create_db_instance(
        DBInstanceIdentifier="ledger-1",
        DBInstanceClass="db.r6g.large",
        Engine="aurora-postgresql",
        DBClusterIdentifier="ledger",
    )

    first = run(ctx, "evidence.snapshot_db", db_instance="ledger-1", finding_id="f-1")
    again = run(ctx, "evidence.snapshot_db", db_instance="ledger-1", finding_id="f-1")

    assert first.status == "succeeded" and again.status == "noop", (first.error, again.error)
    (snap,) = rds.describe_db_cluster_snapshots(DBClusterIdentifier="ledger", SnapshotType="manual")[
        "DBClusterSnapshots"
    ]
    assert snap["DBClusterSnapshotIdentifier"] == "parry-case-1-ledger"
    assert len(first.calls) == 1 and first.calls[0].startswith("rds:CreateDBClusterSnapshot(")


def test_capture_takes_the_instance_and_its_cluster_and_no_password(ctx, rds):
    rds.create_db_cluster(
        DBClusterIdentifier="ledger",
        Engine="aurora-postgresql",
        MasterUsername="admin",
        MasterUserPassword="cluster-secret-1",
    )
    rds.create_db_instance(
        DBInstanceIdentifier="ledger-1",
        DBInstanceClass="db.r6g.large",
        Engine="aurora-postgresql",
        DBClusterIdentifier="ledger",
    )

    result = run(ctx, "evidence.capture_db_instance", db_instance="ledger-1")

    assert result.status == "succeeded", result.error
    raw = ctx.evidence.store.get(result.output["artifact"]["key"])
    stored = json.loads(raw)
    assert stored["instance"]["DBInstanceIdentifier"] == "ledger-1"
    assert stored["cluster"]["DBClusterIdentifier"] == "ledger"
    assert b"cluster-secret-1" not in raw and b"Password" not in raw


def test_a_missing_database_fails_by_name(ctx, rds):
    assert_missing(ctx, "evidence.snapshot_db", "RDS DB instance nope does not exist", db_instance="nope")


def test_a_description_that_carried_a_password_would_lose_it_before_the_evidence():
    from parry.actions.rds import without_secrets

    described = {
        "DBInstanceIdentifier": "x",
        "PendingModifiedValues": {"MasterUserPassword": "p"},
        "List": [{"password": 1}],
    }
    assert without_secrets(described) == {"DBInstanceIdentifier": "x", "PendingModifiedValues": {}, "List": [{}]}
