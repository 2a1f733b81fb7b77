"""Marking a function with a tag (e.g. `parry:vulnerable=CVE-...`), and taking the mark off on undo."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parry.actions.base import Action, ActionContext, ActionParams, ApiCall, Observation, Permission
from parry.actions.lambda_ import FUNCTION_ARN, get_function
from parry.actions.registry import register


@dataclass(frozen=True)
class TagParams(ActionParams):
    function_name: str = field(metadata={"doc": "Lambda function name or ARN"})
    tags: dict[str, str] = field(metadata={"doc": "tag key: value to set"})


def _function(ctx: ActionContext, name: str) -> tuple[str, dict[str, str]]:
    fn = get_function(ctx, name)
    return fn["Configuration"]["FunctionArn"], fn.get("Tags") or {}


@register
class TagFunction(Action[TagParams]):
    """Set tags on a function; undo puts back each tag's earlier value, or removes it.

    ```yaml
    - id: mark-vulnerable
      action: lambda.tag_function
      with: {function_name: my-function, tags: {"parry:vulnerable": CVE-2023-30861}}
    ```
    """

    name = "lambda.tag_function"
    Params = TagParams
    mutating = True
    summary = "Tag Lambda function {function_name} with {tags}"
    undo = "lambda.restore_tags"
    permissions = (Permission(("lambda:GetFunction", "lambda:TagResource"), (FUNCTION_ARN,)),)

    def observe(self, ctx: ActionContext, params: TagParams) -> Observation:
        arn, tags = _function(ctx, params.function_name)
        before = {key: tags.get(key) for key in params.tags}
        done = all(tags.get(k) == v for k, v in params.tags.items())
        return Observation(state={"tags": before}, arn=arn, tags=tags, done=done)

    def calls(self, ctx: ActionContext, params: TagParams, seen: Observation) -> list[ApiCall]:
        return [ApiCall("lambda:TagResource", {"Resource": seen.arn, "Tags": params.tags})]

    def apply(self, ctx: ActionContext, params: TagParams, seen: Observation) -> dict[str, Any]:
        ctx.client("lambda").tag_resource(Resource=seen.arn, Tags=params.tags)
        return {}

    def undo_params(self, params: TagParams, seen: Observation) -> dict[str, Any]:
        before = seen.state["tags"]
        return {
            "function_name": params.function_name,
            "tags": {k: v for k, v in before.items() if v is not None},
            "remove": [k for k, v in before.items() if v is None],
        }


@dataclass(frozen=True)
class RestoreTagsParams(ActionParams):
    function_name: str = field(metadata={"doc": "Lambda function name or ARN"})
    tags: dict[str, str] = field(default_factory=dict, metadata={"doc": "tag key: value to put back"})
    remove: list[str] = field(default_factory=list, metadata={"doc": "tag keys the function did not have"})


@register
class RestoreTags(Action[RestoreTagsParams]):
    """Put a function's tags back as they were: the undo of `lambda.tag_function`.

    ```yaml
    - id: unmark
      action: lambda.restore_tags
      with: {function_name: my-function, remove: ["parry:vulnerable"]}
    ```
    """

    name = "lambda.restore_tags"
    Params = RestoreTagsParams
    mutating = True
    summary = "Put the tags of Lambda function {function_name} back: {tags}, without {remove}"
    no_undo_reason = "it is itself the undo of lambda.tag_function"
    permissions = (Permission(("lambda:GetFunction", "lambda:TagResource", "lambda:UntagResource"), (FUNCTION_ARN,)),)

    def observe(self, ctx: ActionContext, params: RestoreTagsParams) -> Observation:
        arn, tags = _function(ctx, params.function_name)
        done = all(tags.get(k) == v for k, v in params.tags.items()) and not set(params.remove) & set(tags)
        state = {"tags": {k: tags.get(k) for k in [*params.tags, *params.remove]}}
        return Observation(state=state, arn=arn, tags=tags, done=done)

    def _split(self, params: RestoreTagsParams) -> tuple[dict[str, str], list[str]]:
        return params.tags, params.remove

    def calls(self, ctx: ActionContext, params: RestoreTagsParams, seen: Observation) -> list[ApiCall]:
        put, remove = self._split(params)
        return [
            *([ApiCall("lambda:TagResource", {"Resource": seen.arn, "Tags": put})] if put else []),
            *([ApiCall("lambda:UntagResource", {"Resource": seen.arn, "TagKeys": remove})] if remove else []),
        ]

    def apply(self, ctx: ActionContext, params: RestoreTagsParams, seen: Observation) -> dict[str, Any]:
        lam, (put, remove) = ctx.client("lambda"), self._split(params)
        if put:
            lam.tag_resource(Resource=seen.arn, Tags=put)
        if remove:
            lam.untag_resource(Resource=seen.arn, TagKeys=remove)
        return {}
