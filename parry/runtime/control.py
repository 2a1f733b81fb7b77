"""The CLI's control plane: every request of the on-call engineer goes through the front door.

Deployed, the JSON body is POSTed to the front door's function URL (PARRY_CONTROL_URL), signed
with SigV4 for service `lambda` by the caller's own credentials, with a caller proof (a signed
sts:GetCallerIdentity bound to the body, parry.aws.caller_proof); the front door acts for them as
STS names them. Against a local endpoint (`parry local`) the same front-door code runs in this
process on the same proof, and the runner it asks runs here too (parry.runtime.in_process).
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from parry.aws import caller_proof
from parry.aws.endpoints import is_local
from parry.engine.versions import sealed_playbook
from parry.errors import ConfigError, ParryError
from parry.runtime.control_requests import WIRE_KEY
from parry.runtime.front_door import DoorPolicy, FrontDoor
from parry.runtime.in_process import run_in_process
from parry.runtime.maintenance import Swept, sweep

if TYPE_CHECKING:
    from parry.aws.clients import ClientFactory
    from parry.engine.run import Engine
    from parry.playbooks.model import Playbook

LAMBDA_URL_REGION = re.compile(r"https://[a-z0-9]+\.lambda-url\.(?P<region>[a-z0-9-]+)\.on\.aws/?")
TIMEOUT_SECONDS = 300


def url_region(url: str) -> str:
    """The region of a Lambda function URL (https://<id>.lambda-url.<region>.on.aws/)."""
    found = LAMBDA_URL_REGION.fullmatch(url)
    if found is None:
        raise ConfigError(f"{url} is not a Lambda function URL (https://<id>.lambda-url.<region>.on.aws/)")
    return found["region"]


def post_signed(url: str, data: bytes, aws: ClientFactory) -> dict[str, Any]:
    """POST `data` to the front door signed with SigV4 (service lambda) by `aws`'s credentials, with
    their caller proof for it; its JSON answer."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    credentials = aws.session.get_credentials()
    if credentials is None:
        raise ConfigError("no AWS credentials to sign the request to the front door with")
    region = url_region(url)
    headers = {"Content-Type": "application/json", caller_proof.HEADER: caller_proof.sign(aws, data, region=region)}
    request = AWSRequest(method="POST", url=url, data=data, headers=headers)
    SigV4Auth(credentials.get_frozen_credentials(), "lambda", region).add_auth(request)
    prepared = request.prepare()
    http = urllib.request.Request(prepared.url, data=data, headers=dict(prepared.headers.items()), method="POST")
    try:
        with urllib.request.urlopen(http, timeout=TIMEOUT_SECONDS) as response:
            text = response.read()
    except urllib.error.HTTPError as exc:
        text = exc.read()
        if exc.code == 403 and not text.startswith(b'{"status"'):
            raise ParryError(
                f"the front door refused the request (HTTP 403): {text[:300].decode(errors='replace')}"
            ) from exc
    try:
        answer = json.loads(text)
    except ValueError as exc:
        raise ParryError(f"the front door answered with something other than JSON: {text[:200]!r}") from exc
    if not isinstance(answer, dict):
        raise ParryError("the front door answered with something other than a JSON object")
    return answer


@dataclass
class ControlPlane:
    """The requests on `engine`'s cases. `url`: the deployed front door (None: a local endpoint, in-process);
    `acting`: whose credentials sign the request and its caller proof (default: the engine's)."""

    engine: Engine
    playbook: Callable[[str], Playbook]
    url: str | None = None
    acting: Callable[[], ClientFactory] | None = None

    def start(
        self,
        playbook: str,
        *,
        finding_id: str | None = None,
        target: dict[str, str] | None = None,
        reason: str = "",
        new_case: bool = False,
    ) -> dict[str, Any]:
        """Start a playbook on a finding (read from its service) or on a target; the case. `new_case`: a
        fresh case even where a closed case holds the key (parry.engine.dedup)."""
        body = {"kind": "start", "playbook": playbook, "finding_id": finding_id, "target": target, "reason": reason}
        return self._ask({**body, "new_case": new_case})

    def approve(self, case_id: str, *, gate: str | None = None, reason: str = "") -> dict[str, Any]:
        """Approve the paused gate of a case; the case continues from there."""
        return self._ask({"kind": "approve", "case_id": case_id, "gate": gate, "reason": reason})

    def deny(self, case_id: str, *, gate: str | None = None, reason: str = "") -> dict[str, Any]:
        """Deny the paused gate: the case closes and nothing more runs."""
        return self._ask({"kind": "deny", "case_id": case_id, "gate": gate, "reason": reason})

    def resume(self, case_id: str) -> dict[str, Any]:
        """Continue a RUNNING case from the step it stopped at (e.g. blocked until a member account was set up)."""
        return self._ask({"kind": "resume", "case_id": case_id})

    def undo(self, case_id: str, *, step: str | None = None, reason: str = "", partial: bool = False) -> dict[str, Any]:
        """Undo a case's changes in reverse order (or one step): the playbook's runner does it, recorded as the caller."""
        return self._ask({"kind": "undo", "case_id": case_id, "step_id": step, "reason": reason, "partial": partial})

    def sweep(self) -> Swept:
        """What the maintenance function does, here: close every case whose approval window has passed
        (closed-unapproved) and have the runner continue each stuck RUNNING case (in this process)."""
        if self.url:
            raise ConfigError("against a deployed Parry the maintenance function sweeps, every 15 minutes")
        return sweep(
            self.engine,
            lambda name, payload: run_in_process(payload, self._runner_playbook(name, payload), self.engine),
        )

    def _ask(self, body: dict[str, Any]) -> dict[str, Any]:
        data = json.dumps({k: v for k, v in body.items() if v not in (None, "", False)}).encode()
        signer = self.acting() if self.acting is not None else self.engine.aws
        if self.url:
            answer = post_signed(self.url, data, signer)
        else:
            answer = self._local_door().handle_signed(data, caller_proof.sign(signer, data))
        if answer.get("status") in ("REFUSED", "ERROR") and "case_id" not in answer:
            raise ParryError(str(answer.get("error") or answer["status"]))
        if "steps" not in answer and isinstance(answer.get("case_id"), str):
            return self.engine.store.get(answer["case_id"]).as_dict()  # a deployed runner answers with a summary
        return answer

    def _local_door(self) -> FrontDoor:
        settings = self.engine.settings
        if not settings.request_key_id or not settings.cases_table:
            raise ConfigError("set PARRY_REQUEST_KEY_ID and PARRY_CASES_TABLE (`parry local bootstrap` prints them)")
        return FrontDoor(
            self.engine.aws,
            DoorPolicy.from_env(),
            settings.request_key_id,
            settings.cases_table,
            lambda name, payload: run_in_process(payload, self._runner_playbook(name, payload), self.engine),
            clock=self.engine.clock,
        )

    def _runner_playbook(self, name: str, payload: dict[str, Any]) -> Playbook:
        """The playbook the local runner carries: for a request on a case, the version sealed in the case
        (never a file of that name, which may have changed or never have been in playbooks/); for a
        start, the playbook named. The runner still verifies the request and the version."""
        request = (payload.get(WIRE_KEY) or {}).get("request") or {}
        case_id = request.get("case_id") if isinstance(request, dict) else None
        if not isinstance(case_id, str) or not case_id:
            return self.playbook(name)
        case = self.engine.store.get(case_id)
        book = sealed_playbook(case, self.engine.evidence_for(case))
        if book is None:
            raise ParryError(
                f"case {case_id} has no playbook sealed in its evidence (its opening was cut short): "
                "deliver its event again to reopen it"
            )
        return book


def control_url(flag: str | None) -> str | None:
    """The front door to ask: the flag or PARRY_CONTROL_URL; None against a local endpoint (in-process)."""
    url = flag or os.environ.get("PARRY_CONTROL_URL") or None
    if url is None and not is_local():
        raise ConfigError(
            "set PARRY_CONTROL_URL (or --control-url) to the front door's URL (the stack output ControlUrl): "
            "requests to a deployed Parry go through it"
        )
    return url


def local_acting(aws: ClientFactory, role_name: str) -> Callable[[], ClientFactory]:
    """Whose credentials a local command signs with: a session of the local role `role_name`
    (`parry local bootstrap` makes parry-oncall and parry-approver)."""

    def acting() -> ClientFactory:
        account = aws.client("sts").get_caller_identity()["Account"]
        partition = aws.session.get_partition_for_region(aws.region)
        return aws.assume(f"arn:{partition}:iam::{account}:role/{role_name}", session_name=f"parry-cli-{role_name}")

    return acting
