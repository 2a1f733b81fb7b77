"""The front door: the one entry for people's requests (start, approve, deny, undo, resume).

A Lambda function URL with AuthType AWS_IAM, so AWS verifies the caller and hands the function
the caller's identity; the function checks it against the configured roles, seals the request
with the request key and invokes the playbook's runner (functions/control/handler.py).

Its resource policy names exactly the configured on-call and approver roles, each with the two
permissions a function URL needs since October 2025: lambda:InvokeFunctionUrl for AWS_IAM URLs
and lambda:InvokeFunction only when invoked through the URL. Principals of this account whose
identity policies allow invoking it reach the code too (Lambda accepts either policy in one
account): the function's own check of the verified caller is what turns them away, and the SCP in
docs/security.md keeps direct invocations out altogether.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Annotations, CfnOutput
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.constructs.playbook_runner import lambda_function

MEMORY_MB = 256
# It waits for the runner it invokes (at most 300 s) and answers with the runner's answer.
TIMEOUT_SECONDS = 360


class ControlPlane(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function_name: str,
        role_name: str,
        handler: str,
        code_bucket: str,
        code_key: str,
        layers: Sequence[str],
        environment: Mapping[str, str],
        permissions: Sequence[Mapping[str, Any]],
        on_call_roles: Sequence[str],
        approver_roles: Sequence[str],
        log_retention_days: int,
    ) -> None:
        """`on_call_roles` may start, undo and resume, `approver_roles` approve and deny (role ARNs);
        with neither, the front door admits nobody."""
        super().__init__(scope, construct_id)
        admitted = list(dict.fromkeys((*on_call_roles, *approver_roles)))
        if not admitted:
            Annotations.of(self).add_warning_v2(
                "parry:front-door-admits-nobody",
                "parry:onCallRoles and parry:approverRoles are empty: the front door admits nobody, "
                "so no one can start, approve, deny, undo or resume a case",
            )
        elif not approver_roles:
            Annotations.of(self).add_warning_v2(
                "parry:no-approvers", "parry:approverRoles is empty: no one can approve or deny a waiting step"
            )
        self.log_group, self.role, self.function = lambda_function(
            self,
            function_name=function_name,
            description="Parry front door: verifies the caller, seals the request and hands it to the runner",
            handler=handler,
            role_name=role_name,
            statements=permissions,
            code_bucket=code_bucket,
            code_key=code_key,
            layers=layers,
            environment={
                **environment,
                "PARRY_ONCALL_ROLES": ",".join(on_call_roles),
                "PARRY_APPROVER_ROLES": ",".join(approver_roles),
            },
            log_retention_days=log_retention_days,
            memory_size=MEMORY_MB,
            timeout_seconds=TIMEOUT_SECONDS,
        )
        function_arn = self.function.attr_arn
        self.url = lambda_.CfnUrl(self, "Url", target_function_arn=function_arn, auth_type="AWS_IAM")
        for index, role_arn in enumerate(admitted):
            lambda_.CfnPermission(
                self,
                f"InvokeUrl{index}",
                action="lambda:InvokeFunctionUrl",
                function_name=function_arn,
                principal=role_arn,
                function_url_auth_type="AWS_IAM",
            )
            lambda_.CfnPermission(
                self,
                f"InvokeViaUrl{index}",
                action="lambda:InvokeFunction",
                function_name=function_arn,
                principal=role_arn,
                invoked_via_function_url=True,
            )
        CfnOutput(scope, "ControlPlaneUrl", value=self.url.attr_function_url, description="Parry's front door")
