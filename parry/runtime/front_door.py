"""The front door: every person's request to Parry enters here, with the identity AWS verified.

Deployed, it is a Lambda function URL with AuthType AWS_IAM. Who asks is what STS answers for the
caller's signed GetCallerIdentity bound to the body (parry.aws.caller_proof), never the body itself,
and it must agree with the function URL's `requestContext.authorizer.iam`: so a direct
lambda:InvokeFunction with an invented requestContext proves nothing. Locally (`parry` against
127.0.0.1) the CLI runs this same code in-process, with the same proof. The door checks the caller against the
on-call and approver roles, keeps the approver apart from the requester, seals the request with
the request key (only this role may GenerateMac with it) and hands it to the playbook's runner,
whose answer it returns. What it refuses is a security event (`playbook=control-plane`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from parry.aws import caller_proof
from parry.aws.errors import describe_error
from parry.errors import ConfigError, EventError, ParryError, Unauthorized
from parry.runtime.control_requests import KINDS, ControlRequest, seal
from parry.store.model import UNDO_AWAITING

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics

    from parry.aws.clients import ClientFactory

ONCALL_KINDS = frozenset({"start", "undo", "resume"})
APPROVER_KINDS = frozenset({"approve", "deny"})
BODY_FIELDS = frozenset(
    {"kind", "playbook", "case_id", "finding_id", "target", "gate", "step_id", "reason", "partial", "new_case"}
)
CONTROL_PLANE = "control-plane"
ASSUMED_ROLE = re.compile(r"arn:(?P<partition>[a-z-]+):sts::(?P<account>\d{12}):assumed-role/(?P<role>[^/]+)/.+")
ROLE = re.compile(r"arn:(?P<partition>[a-z-]+):iam::(?P<account>\d{12}):role/(?:.*/)?(?P<role>[^/]+)")
LAMBDA_NAME_MAX = 64

Invoke = Callable[[str, dict[str, Any]], dict[str, Any]]


def principal(arn: str) -> str:
    """Who an ARN is for authorization: an assumed-role session (or a role with a path) is its role."""
    found = ASSUMED_ROLE.fullmatch(arn) or ROLE.fullmatch(arn)
    if found is None:
        return arn
    return f"arn:{found['partition']}:iam::{found['account']}:role/{found['role']}"


def runner_function_name(playbook: str) -> str:
    """The playbook's runner function, named as stacks/naming.py `function_name` names it."""
    name = f"parry-{playbook}"
    if len(name) <= LAMBDA_NAME_MAX:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: LAMBDA_NAME_MAX - len(digest) - 1].rstrip('-')}-{digest}"


def _roles(value: str | None) -> frozenset[str]:
    return frozenset(principal(role.strip()) for role in (value or "").split(",") if role.strip())


@dataclass(frozen=True)
class DoorPolicy:
    """Who may ask what: on-call roles start, undo and resume; approver roles approve and deny."""

    oncall: frozenset[str]
    approvers: frozenset[str]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DoorPolicy:
        env = os.environ if env is None else env
        return cls(_roles(env.get("PARRY_ONCALL_ROLES")), _roles(env.get("PARRY_APPROVER_ROLES")))

    def check(self, kind: str, caller: str) -> None:
        allowed = self.approvers if kind in APPROVER_KINDS else self.oncall
        if principal(caller) not in allowed:
            who = "an approver" if kind in APPROVER_KINDS else "an on-call"
            raise Unauthorized(f"{caller} may not {kind}: it is not {who} role of this deployment")


@dataclass
class FrontDoor:
    """The control plane's one entry. `invoke(playbook, payload)` asks the playbook's runner and returns its answer."""

    aws: ClientFactory
    policy: DoorPolicy
    request_key_id: str
    cases_table: str
    invoke: Invoke
    clock: Callable[[], float] = field(default=time.time)

    def handle_signed(self, raw: bytes, proof: str | None, url_caller: str | None = None) -> dict[str, Any]:
        """`handle` for the caller STS names in `proof` for exactly `raw`; a function URL's verified
        caller (`url_caller`), when there is one, must be the same principal."""
        try:
            caller = caller_proof.verify(proof, raw, self.aws)
            if url_caller is not None and principal(url_caller) != principal(caller):
                raise Unauthorized(f"the function URL verified {url_caller}, but the caller proof is {caller}'s")
        except Unauthorized as exc:
            return security_event(str(exc), url_caller)
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise EventError(f"a request body is JSON: {exc}") from exc
        return self.handle(body, caller)

    def handle(self, body: Any, caller: str) -> dict[str, Any]:
        """The runner's answer to a verified caller's request, or `{"status": "REFUSED", "error"}` (a security event)."""
        try:
            request = self._request(body, caller)
        except Unauthorized as exc:
            return security_event(str(exc), caller)
        payload = seal(request, self.aws.client("kms"), self.request_key_id)
        return self.invoke(request.playbook, payload)

    def _request(self, body: Any, caller: str) -> ControlRequest:
        if not isinstance(body, dict) or not set(body) <= BODY_FIELDS:
            raise EventError(f"a request body is a JSON object with only {', '.join(sorted(BODY_FIELDS))}")
        kind = body.get("kind")
        if kind not in KINDS or kind == "continue":
            raise EventError(f"kind must be one of {', '.join(sorted(ONCALL_KINDS | APPROVER_KINDS))}")
        self.policy.check(kind, caller)
        values = {k: v for k, v in body.items() if k not in ("kind", "playbook") and v is not None}
        if kind == "start":
            if not isinstance(body.get("playbook"), str) or not body["playbook"]:
                raise EventError("a start names its playbook")
            if bool(body.get("finding_id")) == bool(body.get("target")):
                raise EventError("a start names a finding_id or a target, one of them")
            return ControlRequest.issue(kind, body["playbook"], caller, self.clock(), **values)
        case = self._case(body.get("case_id"))
        if body.get("playbook") not in (None, case["playbook"]):
            raise EventError(f"case {body['case_id']} belongs to playbook {case['playbook']}")
        if kind in APPROVER_KINDS:
            values["gate"] = body.get("gate") or _waiting_gate(case)
            self._separate(case, caller, kind)
        values["playbook_sha256"] = case["playbook_sha256"]
        return ControlRequest.issue(kind, case["playbook"], caller, self.clock(), **values)

    @staticmethod
    def _separate(case: dict[str, str], caller: str, kind: str) -> None:
        """Refuse the requester deciding their own case, unless its gate says it may (separate: false)."""
        requester = case.get("requested_by")
        separate = (json.loads(case.get("awaiting") or "{}") or {}).get("separate", True)
        if separate and requester and principal(requester) == principal(caller):
            raise Unauthorized(f"{caller} asked for case {case['case_id']}: someone else must {kind} it")

    def _case(self, case_id: Any) -> dict[str, str]:
        """The case's playbook, sha256 and requester, as the table holds them (GetItem, consistent)."""
        if not isinstance(case_id, str) or not re.fullmatch(r"[A-Za-z0-9-]{1,100}", case_id):
            raise EventError("case_id must be a case id (case-YYYYMMDD-...)")
        item = (
            self.aws.client("dynamodb")
            .get_item(
                TableName=self.cases_table,
                Key={"pk": {"S": f"CASE#{case_id}"}, "sk": {"S": "CASE"}},
                ConsistentRead=True,
            )
            .get("Item")
        )
        if not item:
            raise ParryError(f"no case {case_id}")
        return {"case_id": case_id, **{name: value["S"] for name, value in item.items() if "S" in value}}


def _waiting_gate(case: dict[str, str]) -> str | None:
    """The gate the case waits at now: a step's, the rate limit, or an undo that gives access back."""
    undo = json.loads(case.get("undo_request") or "{}") or {}
    if undo.get("state") == UNDO_AWAITING:
        gate = undo.get("gate")
    else:
        awaiting = json.loads(case.get("awaiting") or "{}") or {}
        gate = awaiting.get("gate") or (f"step:{awaiting['step']}" if awaiting.get("step") else None)
    return gate if isinstance(gate, str) else None


def security_event(reason: str, caller: str | None) -> dict[str, Any]:
    """What the door refuses: one log line, one SecurityRejections (playbook=control-plane), the refusal."""
    logger, metrics = _tools()
    logger.warning(
        "security event",
        extra={"security_event": True, "reason": reason[:2000], "caller": caller, "playbook": CONTROL_PLANE},
    )
    metrics.add_metric(name="SecurityRejections", unit="Count", value=1)
    metrics.flush_metrics()
    return {"status": "REFUSED", "error": reason}


def _tools() -> tuple[Logger, Metrics]:
    """The powertools logger and metrics, made when needed (rare: a refusal), so the import stays cheap."""
    from aws_lambda_powertools import Logger, Metrics

    from parry.runtime.dimensions import set_playbook

    metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Parry"), service="parry")
    set_playbook(metrics, CONTROL_PLANE)
    return Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "parry")), metrics


def lambda_invoke(aws: ClientFactory) -> Invoke:
    """Ask a deployed runner synchronously; its answer, or the error it ended with."""

    def invoke(playbook: str, payload: dict[str, Any]) -> dict[str, Any]:
        response = aws.client("lambda").invoke(
            FunctionName=runner_function_name(playbook),
            InvocationType="RequestResponse",
            Payload=json.dumps(payload).encode(),
        )
        answer = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError") or not isinstance(answer, dict):
            error = answer.get("errorMessage") if isinstance(answer, dict) else None
            return {
                "status": "ERROR",
                "error": f"the {playbook} runner failed: {error or response.get('FunctionError')}",
            }
        return answer

    return invoke


class _Deployed:
    """The deployed door, made on the first request and kept while the container is warm."""

    @cached_property
    def door(self) -> FrontDoor:
        from parry.aws.clients import ClientFactory

        key, table = os.environ.get("PARRY_REQUEST_KEY_ID"), os.environ.get("PARRY_CASES_TABLE")
        if not key or not table:
            raise ConfigError("the front door needs PARRY_REQUEST_KEY_ID and PARRY_CASES_TABLE")
        aws = ClientFactory()
        return FrontDoor(aws, DoorPolicy.from_env(), key, table, lambda_invoke(aws))


_deployed = _Deployed()


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The function URL's entry: the body and the caller's proof in, the answer as the HTTP body out."""
    url_caller = ((event.get("requestContext") or {}).get("authorizer") or {}).get("iam", {}).get("userArn")
    if not isinstance(url_caller, str) or not url_caller:
        return _http(security_event("no IAM-verified caller: the function URL must use AuthType AWS_IAM", None))
    headers = {str(name).lower(): value for name, value in (event.get("headers") or {}).items()}
    raw = event.get("body") or ""
    from botocore.exceptions import ClientError

    try:
        body = base64.b64decode(raw) if event.get("isBase64Encoded") else str(raw).encode()
        return _http(_deployed.door.handle_signed(body, headers.get(caller_proof.HEADER), url_caller))
    except (ValueError, ParryError) as exc:
        return _http({"status": "ERROR", "error": str(exc)})
    except ClientError as exc:  # e.g. no runner for that playbook: the caller learns which call failed
        return _http({"status": "ERROR", "error": describe_error(exc)})


def _http(answer: dict[str, Any]) -> dict[str, Any]:
    code = {"REFUSED": 403, "ERROR": 400}.get(str(answer.get("status")), 200)
    return {
        "statusCode": code,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(answer, default=str),
    }
