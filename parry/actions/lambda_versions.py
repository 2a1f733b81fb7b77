"""Evidence of a change to a function: its configuration and code now, and as the version before.

UpdateFunctionCode and UpdateFunctionConfiguration change `$LATEST`; what it was is the newest
published version before the change (if the function publishes versions). The code is recorded by
its CodeSha256 only: GetFunction's code location is a pre-signed URL valid for minutes, a credential
that is never stored or followed here. Environment variables are recorded by name; a changed value
is named (compared in memory), never written down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parry.actions.base import ActionContext, ActionParams, Observation, Permission
from parry.actions.evidence import Capture
from parry.actions.lambda_ import FUNCTION_ARN, get_function
from parry.actions.registry import register

# what differs between any two versions whatever changed: not a change anyone made
VOLATILE = frozenset(
    {
        "FunctionArn",
        "Version",
        "RevisionId",
        "LastModified",
        "LastUpdateStatus",
        "LastUpdateStatusReason",
        "LastUpdateStatusReasonCode",
        "State",
        "StateReason",
        "StateReasonCode",
        "MasterArn",
    }
)


@dataclass(frozen=True)
class VersionsParams(ActionParams):
    function_name: str = field(metadata={"doc": "Lambda function name or ARN"})
    published_version: str | None = field(
        default=None,
        metadata={"doc": "the version the change published (CloudTrail's responseElements.version); $LATEST: none"},
    )


def _recorded(fn: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """A version's configuration as evidence (variable names, not values), and its variables to compare."""
    config = dict(fn["Configuration"])
    variables = dict((config.pop("Environment", None) or {}).get("Variables") or {})
    config["EnvironmentVariableNames"] = sorted(variables)
    code = {k: v for k, v in (fn.get("Code") or {}).items() if k != "Location"}
    return {"configuration": config, "code": code}, variables


def _previous(versions: list[str], published: str | None) -> str | None:
    """The newest published version older than the one the change published (any, if it published none)."""
    numbers = sorted(int(v) for v in versions if v.isdigit())
    if published and published.isdigit():
        numbers = [n for n in numbers if n < int(published)]
    return str(numbers[-1]) if numbers else None


@register
class CaptureLambdaVersions(Capture[VersionsParams]):
    """Store a function's configuration and code hash now and in the version before the change, and what differs.

    ```yaml
    - id: capture-versions
      action: evidence.capture_lambda_versions
      with: {function_name: "${target.function}", published_version: "7"}
    ```
    """

    name = "evidence.capture_lambda_versions"
    Params = VersionsParams
    summary = "Capture Lambda function {function_name} now and as its previous version: configuration, code hash"
    artifact_name = "function-versions.json"
    permissions = (Permission(("lambda:GetFunction", "lambda:ListVersionsByFunction"), (FUNCTION_ARN,)),)

    def observe(self, ctx: ActionContext, params: VersionsParams) -> Observation:
        fn = get_function(ctx, params.function_name)
        latest, latest_variables = _recorded(fn)
        pages = (
            ctx.client("lambda").get_paginator("list_versions_by_function").paginate(FunctionName=params.function_name)
        )
        published = [
            {k: v.get(k) for k in ("Version", "CodeSha256", "LastModified", "RevisionId", "Description")}
            for page in pages
            for v in page["Versions"]
            if v["Version"] != "$LATEST"
        ]
        number = _previous([str(v["Version"]) for v in published], params.published_version)
        state: dict[str, Any] = {
            "function_name": fn["Configuration"]["FunctionName"],
            "latest": latest,
            "previous_version": number,
            "previous": None,
            "published_versions": published,
            "changed": [],
            "environment_values_changed": [],
        }
        if number is not None:
            before, before_variables = _recorded(get_function(ctx, f"{params.function_name}:{number}"))
            now, then = latest["configuration"], before["configuration"]
            state["previous"] = before
            state["changed"] = sorted(
                k for k in set(now) | set(then) if k not in VOLATILE and now.get(k) != then.get(k)
            )
            state["environment_values_changed"] = sorted(
                k for k in set(latest_variables) & set(before_variables) if latest_variables[k] != before_variables[k]
            )
        arn = fn["Configuration"]["FunctionArn"]
        return Observation(state=state, arn=arn, tags=fn.get("Tags") or {}, done=self.stored(ctx))
