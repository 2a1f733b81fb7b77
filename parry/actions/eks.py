"""EKS: capture a cluster's configuration as evidence.

AWS APIs reach the cluster, not what runs in it: a pod, a deployment or a Kubernetes user lives
behind the Kubernetes API, which IAM does not govern. So Parry captures the cluster (and its node
groups, whose instances an on-call may isolate) and leaves the workload to people with cluster access.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from parry.actions.base import ActionContext, ActionParams, Observation, Permission
from parry.actions.evidence import Capture
from parry.actions.registry import register

CLUSTER_ARN = "arn:{partition}:eks:{region}:{account}:cluster/*"


@dataclass(frozen=True)
class ClusterParams(ActionParams):
    cluster: str = field(metadata={"doc": "EKS cluster name"})


@register
class CaptureEksCluster(Capture[ClusterParams]):
    """Store an EKS cluster's configuration and its node groups' names as evidence.

    DescribeCluster holds no secret (its certificate authority is public, no token is asked for);
    Parry never asks for cluster credentials.

    ```yaml
    - id: capture-cluster
      action: evidence.capture_eks_cluster
      with: {cluster: "${target.cluster}"}
    ```
    """

    name = "evidence.capture_eks_cluster"
    Params = ClusterParams
    summary = "Capture EKS cluster {cluster}: version, endpoint access, logging, roles, node groups"
    artifact_name = "cluster.json"
    permissions = (Permission(("eks:DescribeCluster", "eks:ListNodegroups"), (CLUSTER_ARN,)),)

    def observe(self, ctx: ActionContext, params: ClusterParams) -> Observation:
        eks = ctx.client("eks")
        cluster = eks.describe_cluster(name=params.cluster)["cluster"]
        groups = [
            g
            for page in eks.get_paginator("list_nodegroups").paginate(clusterName=params.cluster)
            for g in page.get("nodegroups", [])
        ]
        return Observation(
            state={"cluster": cluster, "nodegroups": groups},
            arn=cluster.get("arn"),
            tags=dict(cluster.get("tags") or {}),
            done=self.stored(ctx),
        )
