"""RDS evidence: a database's configuration, and a snapshot of it taken for the case.

Neither changes the database. What an anomalous login calls for (rotating the database user's
password, ending its sessions) happens inside the database engine, which AWS APIs do not reach
for users other than the master user; docs/playbooks.md says what the on-call does instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parry.actions._common import PARRY_CASE_TAG, tag_dict
from parry.actions.base import Action, ActionContext, ActionParams, ApiCall, Observation, Permission
from parry.actions.evidence import Capture
from parry.actions.registry import register
from parry.errors import ResourceNotFound

DB_ARN = "arn:{partition}:rds:{region}:{account}:db:*"
CLUSTER_ARN = "arn:{partition}:rds:{region}:{account}:cluster:*"
SNAPSHOT_ARN = "arn:{partition}:rds:{region}:{account}:snapshot:*"
CLUSTER_SNAPSHOT_ARN = "arn:{partition}:rds:{region}:{account}:cluster-snapshot:*"
DESCRIBE = Permission(("rds:DescribeDBInstances", "rds:DescribeDBClusters"), (DB_ARN, CLUSTER_ARN))


@dataclass(frozen=True)
class DbParams(ActionParams):
    db_instance: str = field(metadata={"doc": "DB instance identifier"})


def describe_instance(ctx: ActionContext, identifier: str) -> dict[str, Any]:
    """The instance's description; ResourceNotFound when there is no such instance."""
    rds = ctx.client("rds")
    try:
        found: dict[str, Any] = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
    except rds.exceptions.DBInstanceNotFoundFault as exc:
        raise ResourceNotFound(f"RDS DB instance {identifier} does not exist") from exc
    return found


def without_secrets(value: Any) -> Any:
    """`value` without any key naming a password (describe calls return none today; kept so if one appears)."""
    if isinstance(value, dict):
        return {k: without_secrets(v) for k, v in value.items() if "password" not in k.lower()}
    if isinstance(value, list):
        return [without_secrets(v) for v in value]
    return value


@register
class CaptureDbInstance(Capture[DbParams]):
    """Store a DB instance's description, and its cluster's when it is in one, as evidence (no secrets).

    ```yaml
    - id: capture-database
      action: evidence.capture_db_instance
      with: {db_instance: "${target.instance}"}
    ```
    """

    name = "evidence.capture_db_instance"
    Params = DbParams
    summary = "Capture RDS DB instance {db_instance} and its cluster: configuration, endpoints, security groups"
    artifact_name = "database.json"
    permissions = (DESCRIBE,)

    def observe(self, ctx: ActionContext, params: DbParams) -> Observation:
        inst = describe_instance(ctx, params.db_instance)
        cluster = None
        if inst.get("DBClusterIdentifier"):
            clusters = ctx.client("rds").describe_db_clusters(DBClusterIdentifier=inst["DBClusterIdentifier"])
            cluster = clusters["DBClusters"][0]
        state = without_secrets({"instance": inst, "cluster": cluster})
        tags = tag_dict(inst.get("TagList"))
        return Observation(state=state, arn=inst.get("DBInstanceArn"), tags=tags, done=self.stored(ctx))


@dataclass(frozen=True)
class DbSnapshotParams(DbParams):
    finding_id: str | None = field(default=None, metadata={"doc": "finding id to tag the snapshot with"})


def snapshot_name(case_id: str, identifier: str) -> str:
    """The case's snapshot of the database: one name per case and database, so a retry finds it."""
    return f"parry-{case_id}-{identifier}".lower()


@register
class SnapshotDb(Action[DbSnapshotParams]):
    """Snapshot a DB instance (or its Aurora cluster), named and tagged for the case; once per case.

    ```yaml
    - id: snapshot-database
      action: evidence.snapshot_db
      with: {db_instance: "${target.instance}", finding_id: "${target.finding}"}
    ```
    """

    name = "evidence.snapshot_db"
    Params = DbSnapshotParams
    mutating = True  # it creates a snapshot: a dry run only plans it
    summary = "Snapshot RDS DB instance {db_instance} (its cluster when it is in one)"
    no_undo_reason = "snapshots are evidence: Parry never deletes them; delete them when the case is closed"
    permissions = (
        DESCRIBE,
        Permission(
            ("rds:DescribeDBSnapshots", "rds:DescribeDBClusterSnapshots"),
            (DB_ARN, CLUSTER_ARN, SNAPSHOT_ARN, CLUSTER_SNAPSHOT_ARN),
        ),
        Permission(("rds:CreateDBSnapshot",), (DB_ARN, SNAPSHOT_ARN)),
        Permission(("rds:CreateDBClusterSnapshot",), (CLUSTER_ARN, CLUSTER_SNAPSHOT_ARN)),
        Permission(("rds:AddTagsToResource",), (SNAPSHOT_ARN, CLUSTER_SNAPSHOT_ARN)),
    )

    def observe(self, ctx: ActionContext, params: DbSnapshotParams) -> Observation:
        inst = describe_instance(ctx, params.db_instance)
        cluster = inst.get("DBClusterIdentifier")
        name = snapshot_name(ctx.case_id, cluster or params.db_instance)
        taken = _taken(ctx, name, cluster)
        state = {
            "db_instance": params.db_instance,
            "cluster": cluster,
            "snapshot": name,
            "taken": taken,
        }
        return Observation(state=state, arn=inst.get("DBInstanceArn"), tags=tag_dict(inst.get("TagList")), done=taken)

    def calls(self, ctx: ActionContext, params: DbSnapshotParams, seen: Observation) -> list[ApiCall]:
        if seen.state["cluster"]:
            ident = {
                "DBClusterIdentifier": seen.state["cluster"],
                "DBClusterSnapshotIdentifier": seen.state["snapshot"],
            }
            return [ApiCall("rds:CreateDBClusterSnapshot", ident)]
        ident = {"DBInstanceIdentifier": params.db_instance, "DBSnapshotIdentifier": seen.state["snapshot"]}
        return [ApiCall("rds:CreateDBSnapshot", ident)]

    def apply(self, ctx: ActionContext, params: DbSnapshotParams, seen: Observation) -> dict[str, Any]:
        tags = {PARRY_CASE_TAG: ctx.case_id, "parry:db-instance": params.db_instance}
        if params.finding_id:
            tags["parry:finding"] = params.finding_id
        tag_list = [{"Key": k, "Value": v} for k, v in tags.items()]
        rds = ctx.client("rds")
        if seen.state["cluster"]:
            rds.create_db_cluster_snapshot(
                DBClusterIdentifier=seen.state["cluster"],
                DBClusterSnapshotIdentifier=seen.state["snapshot"],
                Tags=tag_list,
            )
        else:
            rds.create_db_snapshot(
                DBInstanceIdentifier=params.db_instance, DBSnapshotIdentifier=seen.state["snapshot"], Tags=tag_list
            )
        return {"snapshot": seen.state["snapshot"], "cluster": seen.state["cluster"]}


def _taken(ctx: ActionContext, name: str, cluster: str | None) -> bool:
    """Whether the case's snapshot exists already (a retry after CreateDB*Snapshot succeeded)."""
    rds = ctx.client("rds")
    try:
        if cluster:
            rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=name)
        else:
            rds.describe_db_snapshots(DBSnapshotIdentifier=name)
    except (rds.exceptions.DBSnapshotNotFoundFault, rds.exceptions.DBClusterSnapshotNotFoundFault):
        return False
    return True
