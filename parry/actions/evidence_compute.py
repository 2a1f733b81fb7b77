"""Evidence from compute: a function's configuration and code, an instance's state and disks.

The code package is fetched from the pre-signed URL GetFunction returns. The fetch is injectable
(`ActionContext.downloader`): tests serve the package locally, production uses `download` below.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from parry.actions._common import PARRY_CASE_TAG, tag_dict
from parry.actions.base import Action, ActionContext, ActionParams, ApiCall, Observation, Permission
from parry.actions.ec2 import INSTANCE_ARN, InstanceParams, describe_instance, instance_arn
from parry.actions.evidence import Capture, _store
from parry.actions.lambda_ import FUNCTION_ARN, FunctionParams, get_function, policy_statements
from parry.actions.registry import register
from parry.errors import ActionError

DOWNLOAD_TIMEOUT = 30.0  # seconds
MAX_CODE_BYTES = 256 * 1024 * 1024  # above Lambda's largest package; more is not a Lambda package
CHUNK = 1024 * 1024
SNAPSHOT_ARN = "arn:{partition}:ec2:{region}::snapshot/*"  # snapshot ARNs name no account


def download(url: str, *, timeout: float = DOWNLOAD_TIMEOUT, max_bytes: int = MAX_CODE_BYTES) -> bytes:
    """GET `url` (http or https only) with a timeout, refusing bodies over `max_bytes`."""
    if urlparse(url).scheme not in ("https", "http"):
        raise ActionError(f"refusing to download {urlparse(url).scheme or 'a schemeless'} URL")
    body = bytearray()
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        declared = resp.headers.get("Content-Length")
        if declared and int(declared) > max_bytes:
            raise ActionError(f"code package is {declared} bytes, over the {max_bytes}-byte cap")
        while chunk := resp.read(CHUNK):
            body += chunk
            if len(body) > max_bytes:
                raise ActionError(f"code package is over the {max_bytes}-byte cap")
    return bytes(body)


@register
class CaptureLambda(Capture[FunctionParams]):
    """Store a function's configuration, resource policy and code package (with its sha256).

    Environment variables are recorded by name only: their values are often secrets, and evidence
    is read by more people than the function's owners.

    ```yaml
    - id: capture-function
      action: evidence.capture_lambda
      with: {function_name: "${target.function}"}
    ```
    """

    name = "evidence.capture_lambda"
    Params = FunctionParams
    summary = "Capture Lambda function {function_name}: configuration, policy, variable names, code package"
    artifact_name = "function.json"
    permissions = (
        Permission(("lambda:GetFunction", "lambda:GetPolicy", "lambda:GetFunctionConcurrency"), (FUNCTION_ARN,)),
    )

    def observe(self, ctx: ActionContext, params: FunctionParams) -> Observation:
        fn = get_function(ctx, params.function_name)
        config = dict(fn["Configuration"])
        env = config.pop("Environment", None) or {}
        state = {
            "configuration": config,
            "environment_variable_names": sorted(env.get("Variables", {})),
            "resource_policy": policy_statements(ctx, params.function_name),
            "reserved_concurrency": ctx.client("lambda")
            .get_function_concurrency(FunctionName=params.function_name)
            .get("ReservedConcurrentExecutions"),
            "tags": fn.get("Tags") or {},
            "code": {k: v for k, v in fn.get("Code", {}).items() if k != "Location"},  # the URL is a credential
        }
        return Observation(state=state, arn=config["FunctionArn"], tags=state["tags"], done=self.stored(ctx))

    def calls(self, ctx: ActionContext, params: FunctionParams, seen: Observation) -> list[ApiCall]:
        return super().calls(ctx, params, seen) + [
            ApiCall("s3:PutObject", {"Key": f"artifacts/{ctx.step_id}/code.zip"})
        ]

    def apply(self, ctx: ActionContext, params: FunctionParams, seen: Observation) -> dict[str, Any]:
        out: dict[str, Any] = {}
        # the pre-signed URL is fetched now, not in observe: it is valid for minutes only
        location = get_function(ctx, params.function_name).get("Code", {}).get("Location")
        if location:
            fetch = ctx.downloader or download
            try:
                package = fetch(location, timeout=DOWNLOAD_TIMEOUT, max_bytes=MAX_CODE_BYTES)
            except (ActionError, OSError, http.client.HTTPException) as exc:
                # the configuration is the evidence that matters most: keep it, and say why the code is missing
                out["code"] = {"error": f"code package not downloaded: {exc}"}
            else:
                digest = base64.b64encode(hashlib.sha256(package).digest()).decode()  # Lambda's CodeSha256 form
                out["code"] = {
                    **_store(ctx, "code.zip", package, "application/zip")["artifact"],
                    "matches_code_sha256": digest == seen.state["configuration"].get("CodeSha256"),
                }
        else:  # a container image function: the image stays in ECR, its URI is in the state
            out["code"] = None
        return {**_store(ctx, self.artifact_name, {**seen.state, "code_package": out["code"]}), **out}

    def noop_output(self, ctx: ActionContext, params: FunctionParams, seen: Observation) -> dict[str, Any]:
        """The stored capture's code package (or why it is missing), so a re-run reports what it reported."""
        out = super().noop_output(ctx, params, seen)
        if not out or ctx.evidence is None:
            return out
        return {**out, "code": json.loads(ctx.evidence.store.get(out["artifact"]["key"])).get("code_package")}

    def missing(self, output: dict[str, Any]) -> list[str]:
        code = output.get("code")
        return [f"code.zip not stored: {code['error']}"] if isinstance(code, dict) and "error" in code else []


@register
class CaptureInstance(Capture[InstanceParams]):
    """Store an instance's full description and its console output (boot log, kernel messages).

    ```yaml
    - id: capture-instance
      action: evidence.capture_instance
      with: {instance_id: "${target.instance}"}
    ```
    """

    name = "evidence.capture_instance"
    summary = "Capture EC2 instance {instance_id}: description and console output"
    artifact_name = "instance.json"
    permissions = (Permission(("ec2:DescribeInstances",)), Permission(("ec2:GetConsoleOutput",), (INSTANCE_ARN,)))

    Params = InstanceParams

    def observe(self, ctx: ActionContext, params: InstanceParams) -> Observation:
        inst = describe_instance(ctx, params.instance_id)
        console = ctx.client("ec2").get_console_output(InstanceId=params.instance_id)
        raw = console.get("Output") or ""
        try:
            text = base64.b64decode(raw).decode("utf-8", errors="replace")
        except ValueError:
            text = raw
        state = {"instance": inst, "console_output": text, "console_timestamp": console.get("Timestamp")}
        tags = tag_dict(inst.get("Tags"))
        return Observation(state=state, arn=instance_arn(ctx, params.instance_id), tags=tags, done=self.stored(ctx))


# ---- disk snapshots ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SnapshotParams(ActionParams):
    instance_id: str = field(metadata={"doc": "EC2 instance id (i-...)"})
    finding_id: str | None = field(default=None, metadata={"doc": "finding id to tag the snapshots with"})


def case_snapshots(ctx: ActionContext, instance_id: str) -> dict[str, str]:
    """{volume id: snapshot id} of the snapshots this case already took of the instance."""
    filters = [
        {"Name": f"tag:{PARRY_CASE_TAG}", "Values": [ctx.case_id]},
        {"Name": "tag:parry:instance", "Values": [instance_id]},
    ]
    pages = ctx.client("ec2").get_paginator("describe_snapshots").paginate(OwnerIds=["self"], Filters=filters)
    return {s["VolumeId"]: s["SnapshotId"] for page in pages for s in page["Snapshots"]}


@register
class SnapshotVolumes(Action[SnapshotParams]):
    """Snapshot every EBS volume attached to an instance, tagged with the case, finding and volume.

    ```yaml
    - id: snapshot-disks
      action: evidence.snapshot_volumes
      with: {instance_id: "${target.instance}", finding_id: "${target.finding}"}
    ```
    """

    name = "evidence.snapshot_volumes"
    Params = SnapshotParams
    mutating = True  # it creates snapshots: a dry run only plans them
    summary = "Snapshot the EBS volumes of EC2 instance {instance_id}"
    no_undo_reason = "snapshots are evidence: Parry never deletes them; delete them when the case is closed"
    permissions = (
        Permission(("ec2:DescribeInstances", "ec2:DescribeSnapshots")),
        Permission(("ec2:CreateSnapshot",), ("arn:{partition}:ec2:{region}:{account}:volume/*", SNAPSHOT_ARN)),
        Permission(("ec2:CreateTags",), (SNAPSHOT_ARN,)),
    )

    def observe(self, ctx: ActionContext, params: SnapshotParams) -> Observation:
        inst = describe_instance(ctx, params.instance_id)
        volumes = sorted(b["Ebs"]["VolumeId"] for b in inst.get("BlockDeviceMappings", []) if "Ebs" in b)
        taken = case_snapshots(ctx, params.instance_id)
        state = {"instance_id": params.instance_id, "volumes": volumes, "snapshots": taken}
        return Observation(
            state=state,
            arn=instance_arn(ctx, params.instance_id),
            tags=tag_dict(inst.get("Tags")),
            done=all(v in taken for v in volumes),
        )

    def _todo(self, seen: Observation) -> list[str]:
        return [v for v in seen.state["volumes"] if v not in seen.state["snapshots"]]

    def calls(self, ctx: ActionContext, params: SnapshotParams, seen: Observation) -> list[ApiCall]:
        return [ApiCall("ec2:CreateSnapshot", {"VolumeId": v}) for v in self._todo(seen)]

    def apply(self, ctx: ActionContext, params: SnapshotParams, seen: Observation) -> dict[str, Any]:
        created = {}
        for volume in self._todo(seen):
            tags = {PARRY_CASE_TAG: ctx.case_id, "parry:instance": params.instance_id, "parry:volume": volume}
            if params.finding_id:
                tags["parry:finding"] = params.finding_id
            snap = ctx.client("ec2").create_snapshot(
                VolumeId=volume,
                Description=f"Parry case {ctx.case_id}: {volume} of {params.instance_id}",
                TagSpecifications=[
                    {"ResourceType": "snapshot", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
                ],
            )
            created[volume] = snap["SnapshotId"]
        return {"snapshots": created}
