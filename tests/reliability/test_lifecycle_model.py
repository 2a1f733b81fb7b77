"""The case lifecycle under random sequences (hypothesis stateful testing), on in-process moto.

Deliveries of new findings and redeliveries of old ones, crashes mid-run, approvals, denials,
expiries, undos and kill-switch flips, in any order, on two keys and two playbooks (one acting at
once, one waiting for approval). After every step:
- at most one open case per (playbook, dedup key);
- a new finding on a key whose case is closed opened a new case that follows it (none swallowed);
- every deactivation the cases record as theirs was made exactly once (counted at the IAM API);
and at the end every closed case verifies intact. A transition outside parry.store.lifecycle would
raise IllegalTransition, which no rule catches.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from parry.config import Settings
from parry.engine import approvals
from parry.engine.run import Engine
from parry.engine.undo import undo
from parry.errors import CaseBusy, DecisionError, UndoError
from parry.evidence.sources import S3Source
from parry.evidence.verify import verify_case
from parry.evidence.writer import sha256_hex
from parry.store import lifecycle
from tests.support.decisions import approve, deny
from tests.support.findings import registered
from tests.support.playbooks import approval_book, playbook

BOB = "arn:aws:iam::123456789012:role/Approver"
KEYED = "detail.resource.accessKeyDetails.accessKeyId"
BOOKS = {
    "auto": playbook(name="model-auto", dedup=KEYED),
    "gated": playbook(name="model-gated", dedup=KEYED, steps=[s.to_json() for s in approval_book().steps]),
}


class Crash(BaseException):
    """The invocation dies at a checkpoint (not an Exception: nothing in Parry mistakes it for a failure)."""


class Lifecycle(RuleBasedStateMachine):
    aws: Any = None
    base: dict[str, Any] = {}

    def __init__(self) -> None:
        super().__init__()
        self.now = [1_900_000_000.0]
        self.engine = Engine(self.aws, Settings.from_env(), clock=lambda: self.now[0])
        iam = self.aws.client("iam")
        self.users: list[tuple[str, str]] = []
        for _ in range(2):
            user = f"model-{uuid.uuid4().hex[:10]}"
            iam.create_user(UserName=user)
            self.users.append((user, iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]))
        self.last: dict[tuple[str, int], dict[str, Any]] = {}
        self.deactivations: Counter[str] = Counter()
        self.crash_at: int | None = None
        self._hooks()

    def _hooks(self) -> None:
        count = self.deactivations

        def counted(params: dict[str, Any], **_: Any) -> None:
            if params.get("Status") == "Inactive":
                count[params["AccessKeyId"]] += 1

        self.aws.client("iam").meta.events.register("provide-client-params.iam.UpdateAccessKey", counted)
        saves = self.engine.store.save
        calls = [0]

        def save(case: Any, **kwargs: Any) -> None:
            calls[0] += 1
            if self.crash_at is not None and calls[0] >= self.crash_at:
                self.crash_at = None
                raise Crash("killed at a checkpoint")
            saves(case, **kwargs)

        self.engine.store.save = save  # type: ignore[method-assign]
        self.calls = calls

    # ---- what happens ----------------------------------------------------------------------------

    def _finding(self, key: int, fresh: bool, book: str) -> dict[str, Any]:
        if not fresh and (book, key) in self.last:
            return self.last[(book, key)]
        user, access_key = self.users[key]
        event = json.loads(json.dumps(self.base))
        event["id"] = str(uuid.uuid4())
        event["detail"]["id"] = uuid.uuid4().hex
        event["detail"]["resource"]["accessKeyDetails"].update(userName=user, accessKeyId=access_key)
        return registered(self.aws, event)

    def _cases(self, book: str, key: int) -> list[Any]:
        dedup = self.users[key][1]
        return [c for c in self.engine.store.list(limit=1000, playbook=BOOKS[book].name) if c.dedup == dedup]

    @rule(book=st.sampled_from(sorted(BOOKS)), key=st.integers(0, 1), fresh=st.booleans(), crash=st.integers(0, 4))
    def deliver(self, book: str, key: int, fresh: bool, crash: int) -> None:
        event = self._finding(key, fresh, book)
        before = self._cases(book, key)
        holder = max(before, key=lambda c: c.opened_at) if before else None
        self.crash_at = self.calls[0] + crash if crash else None
        try:
            case = self.engine.run(BOOKS[book], event)
        except Crash:
            case = None
        except CaseBusy:
            case = None
        self.crash_at = None
        self.last[(book, key)] = event
        if case is None:
            return
        if holder is not None and fresh and not lifecycle.is_open(holder.status):
            assert not case.duplicate and case.follows == holder.case_id, f"a new finding was swallowed by {holder}"
        if holder is not None and fresh and lifecycle.is_open(holder.status):
            assert case.case_id == holder.case_id and case.attached, "a new finding on an open case was not attached"

    def _open(self, book: str, status: str) -> list[Any]:
        return [c for k in (0, 1) for c in self._cases(book, k) if c.status == status]

    @rule(approve_it=st.booleans())
    def decide(self, approve_it: bool) -> None:
        for case in self._open("gated", "AWAITING_APPROVAL")[:1]:
            try:
                if approve_it:
                    approve(self.engine, case.case_id, who=BOB)
                    self.engine.resume(case.case_id, BOOKS["gated"])
                else:
                    deny(self.engine, case.case_id, who=BOB)
            except DecisionError:
                pass

    @rule()
    def time_passes(self) -> None:
        self.now[0] += 25 * 3600  # past every approval window
        approvals.expire_overdue(self.engine)

    @rule(book=st.sampled_from(sorted(BOOKS)), key=st.integers(0, 1))
    def undo_latest(self, book: str, key: int) -> None:
        closed = [c for c in self._cases(book, key) if c.status in lifecycle.UNDOABLE]
        for case in closed[:1]:
            try:
                undo(self.engine, case.case_id, who="arn:aws:iam::123456789012:role/OnCall", reason="model")
            except UndoError:
                pass

    @rule(on=st.booleans())
    def kill_switch(self, on: bool) -> None:
        name = self.engine.settings.kill_switch_parameter
        self.aws.client("ssm").put_parameter(Name=name, Value="on" if on else "off", Type="String", Overwrite=True)

    @precondition(lambda self: any(self.last))
    @rule()
    def redrive_interrupted(self) -> None:
        """A crashed run's delivery is retried, as Lambda does."""
        for (book, _), event in self.last.items():
            try:
                self.engine.run(BOOKS[book], event)
            except CaseBusy:
                pass

    # ---- what must always hold -------------------------------------------------------------------

    @invariant()
    def one_open_case_per_key(self) -> None:
        for book in BOOKS:
            for key in (0, 1):
                open_cases = [c.case_id for c in self._cases(book, key) if lifecycle.is_open(c.status)]
                assert len(open_cases) <= 1, open_cases

    @invariant()
    def each_recorded_deactivation_happened_once(self) -> None:
        recorded: Counter[str] = Counter()
        for book in BOOKS:
            for key in (0, 1):
                for case in self._cases(book, key):
                    for step in case.steps:
                        if step.action == "iam.deactivate_access_key" and step.status == "succeeded":
                            recorded[step.params["access_key_id"]] += 1
        for _, access_key in self.users:
            assert self.deactivations[access_key] == recorded[access_key], (self.deactivations, recorded)

    def teardown(self) -> None:
        s3, bucket = self.aws.client("s3"), self.engine.settings.evidence_bucket
        signing_key = self.aws.client("kms").get_public_key(KeyId=self.engine.settings.signing_key_id)["PublicKey"]
        pin = {sha256_hex(bytes(signing_key))}  # an unpinned verify is never intact
        for book in BOOKS:
            for key in (0, 1):
                for case in self._cases(book, key):
                    if not lifecycle.is_open(case.status):
                        found = verify_case(S3Source(s3, bucket, case.evidence_prefix), trusted_keys=pin)
                        assert found.ok, (case.case_id, case.status, [p.as_dict() for p in found.problems])


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_random_sequences_keep_the_lifecycle_invariants(aws, parry_env, compromised_user):
    from parry.local.corrections import sign_digests_like_kms

    sign_digests_like_kms()  # moto signs a digest as if it were the message; the seal's signatures must verify
    Lifecycle.aws, Lifecycle.base = aws, compromised_user["event"]
    run_state_machine_as_test(
        Lifecycle,
        settings=settings(
            max_examples=12,
            stateful_step_count=10,
            deadline=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],  # a failure prints its steps; shrinking on moto takes minutes
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
