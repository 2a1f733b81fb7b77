"""Function URLs: require IAM authentication on a URL open to anyone, and open it again on undo."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from parry.actions.base import Action, ActionContext, ActionParams, ApiCall, Observation, Permission
from parry.actions.lambda_ import FUNCTION_ARN, get_function
from parry.actions.registry import register
from parry.errors import ResourceNotFound

AWS_IAM, NONE = "AWS_IAM", "NONE"
URL_PERMISSIONS = (
    Permission(
        ("lambda:GetFunction", "lambda:GetFunctionUrlConfig", "lambda:UpdateFunctionUrlConfig"), (FUNCTION_ARN,)
    ),
)


@dataclass(frozen=True)
class UrlParams(ActionParams):
    function_name: str = field(metadata={"doc": "Lambda function name or ARN"})
    qualifier: str | None = field(default=None, metadata={"doc": "the alias whose URL it is; none: the function's"})


def _qualified(params: UrlParams) -> dict[str, str]:
    return {"FunctionName": params.function_name, **({"Qualifier": params.qualifier} if params.qualifier else {})}


class _SetUrlAuthType(Action[UrlParams]):
    """Set a function URL's AuthType; the subclasses name which."""

    auth_type: ClassVar[str]
    Params = UrlParams
    mutating = True
    permissions = URL_PERMISSIONS

    def observe(self, ctx: ActionContext, params: UrlParams) -> Observation:
        lam = ctx.client("lambda")
        try:
            config = lam.get_function_url_config(**_qualified(params))
        except lam.exceptions.ResourceNotFoundException as exc:
            raise ResourceNotFound(f"Lambda function {params.function_name} has no function URL") from exc
        tags = get_function(ctx, params.function_name).get("Tags") or {}  # what the protection check reads
        state = {"function_url": config["FunctionUrl"], "auth_type": config["AuthType"]}
        return Observation(state=state, arn=config["FunctionArn"], tags=tags, done=config["AuthType"] == self.auth_type)

    def calls(self, ctx: ActionContext, params: UrlParams, seen: Observation) -> list[ApiCall]:
        return [ApiCall("lambda:UpdateFunctionUrlConfig", {**_qualified(params), "AuthType": self.auth_type})]

    def apply(self, ctx: ActionContext, params: UrlParams, seen: Observation) -> dict[str, Any]:
        ctx.client("lambda").update_function_url_config(**_qualified(params), AuthType=self.auth_type)
        return {}


@register
class RequireUrlAuth(_SetUrlAuthType):
    """Make a function URL require SigV4-signed requests (AuthType AWS_IAM) instead of serving anyone.

    ```yaml
    - id: require-auth
      action: lambda.require_url_auth
      approval: required
      with: {function_name: "${target.function}"}
    ```
    """

    name = "lambda.require_url_auth"
    auth_type = AWS_IAM
    summary = "Require IAM authentication (AuthType AWS_IAM) on the function URL of Lambda function {function_name}"
    undo = "lambda.allow_public_url"


@register
class AllowPublicUrl(_SetUrlAuthType):
    """Serve a function URL to anyone again (AuthType NONE): the undo of `lambda.require_url_auth`.

    ```yaml
    - id: reopen-url
      action: lambda.allow_public_url
      with: {function_name: my-function}
    ```
    """

    name = "lambda.allow_public_url"
    auth_type = NONE
    restores_access = True
    summary = "Serve the function URL of Lambda function {function_name} to anyone again (AuthType NONE)"
    no_undo_reason = "it is itself the undo of lambda.require_url_auth"
