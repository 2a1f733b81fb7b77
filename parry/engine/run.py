"""The engine: run a playbook on an event and resume its case; the wiring the plan
(parry.engine.plan), the decisions (approvals) and undo share.

Plain Python: the Lambda handler, the CLI and the tests all call it. A run claims its case first
(exactly-once under at-least-once delivery), holds a lease while it works, checkpoints after every
step (a retried invocation resumes at the first unfinished step), and writes every step to the
hash-chained audit log in the evidence bucket.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from parry.actions import registry
from parry.actions.base import Action, ActionContext, P, acts_in_member_account
from parry.aws.clients import ClientFactory
from parry.aws.members import MemberAccounts
from parry.config import Settings
from parry.engine import (
    approvals,
    dedup,
    deliveries,
    first_change,
    intake,
    notices,
    opening,
    places,
    provenance,
    sealed,
    versions,
)
from parry.engine import steps as st
from parry.engine.inflight_seal import InflightSeals
from parry.engine.kill_switch import KillSwitch
from parry.engine.plan import Plan, read_only_plan
from parry.engine.variables import step_action, when_false
from parry.errors import (
    CaseBusy,
    DecisionError,
    MemberAccountUnavailable,
    ParryError,
    WrongPlaybook,
)
from parry.evidence import manifest as mf
from parry.evidence.writer import CaseEvidence, EvidenceStore
from parry.playbooks.model import Playbook, Step
from parry.routing.events import check_envelope, resource_account
from parry.routing.findings import authentic_event
from parry.routing.placement import acting_region
from parry.store import model as cs
from parry.store.hourly import HourlyLimits
from parry.store.lifecycle import Outcome
from parry.store.model import Case
from parry.store.step_result import (
    ABORTING,
    BLOCKED,
    CHANGED,
    FAILED,
    NOOP,
    PLANNED,
    SHORT,
    SKIPPED,
    SUCCEEDED,
    StepResult,
)
from parry.store.store import CaseStore

# Stop starting new steps when less than this is left before the Lambda deadline.
STEP_BUDGET_SECONDS = 30.0
LOCAL_LEASE_SECONDS = 900.0
CLAIM_ATTEMPTS = 3  # a claim moved by concurrent deliveries this many times: retry the delivery later


class Engine:
    """Plans and runs playbooks on events with `aws`'s credentials, keeping cases where `settings` say."""

    def __init__(self, aws: ClientFactory, settings: Settings, *, clock: Callable[[], float] = time.time):
        self.aws = aws
        self.settings = settings
        self.clock = clock
        self._identity: dict[str, str] | None = None
        self._account: str | None = None  # the account Parry runs in, when known without asking STS (`runs_in`)
        self._detectors: dict[str, str] = {}  # GuardDuty's detector per region, kept while the runner is warm
        self._reads: dict[str, dict[tuple[str, ...], Any]] = {}  # per case being run: see ActionContext.reads
        self._ready: dict[str, first_change.Ready] = {}  # a new case's first change, prepared before its claim
        self._public_keys: dict[str, mf.PublicKey] = {}  # the signing key's public half, kept while warm
        self.members = MemberAccounts(
            aws,
            role_name=settings.member_role_name,
            external_id=settings.member_external_id,
            caller_arn=lambda: self._caller()["Arn"],
            clock=clock,
        )
        self.kill_switch = KillSwitch(aws, settings.kill_switch_parameter, clock=clock, tell=self.tell)
        self.inflight_seals = InflightSeals(lambda: aws.client("kms"), settings.continuation_key_id)

    # ---- wiring ------------------------------------------------------------------------------------

    @property
    def store(self) -> CaseStore:
        _, table = self.settings.require()
        return CaseStore(self.aws.client("dynamodb"), table, clock=self.clock)

    def evidence_for(self, case: Case) -> CaseEvidence:
        bucket, _ = self.settings.require()
        store = EvidenceStore(
            self.aws.client("s3"),
            bucket,
            retention_days=self.settings.retention_days,
            lock_mode=self.settings.lock_mode,
        )
        return store.case(case_id=case.case_id, account=case.account, opened_at=case.opened_datetime)

    def _caller(self) -> dict[str, str]:
        if self._identity is None:
            identity = self.aws.client("sts").get_caller_identity()
            self._identity = {"Account": identity["Account"], "Arn": identity["Arn"]}
        return self._identity

    def _caller_account(self) -> str:
        return self._account or self._caller()["Account"]

    def runs_in(self, account: str) -> None:
        """The account Parry runs in, as its caller knows it without STS (a Lambda function's own ARN):
        a cold runner's first containment waits for one client and one call fewer."""
        self._account = account

    def caller_account(self) -> str:
        """The account Parry runs in (its own credentials')."""
        return self._caller_account()

    def account_of(self, event: dict[str, Any]) -> str:
        """The account a case on `event` acts in: the finding's resource's, else Parry's own."""
        return resource_account(event) or self._caller_account()

    def clients_for(self, case: Case, action: type[Action[P]]) -> ClientFactory:
        """The clients `action` uses in `case`: the member account's role, or Parry's own credentials.

        An action acting on the case's resources (`acts_in_member_account`: the same rule
        that puts its permissions in the member-account role) gets the role Parry assumes in the
        case's account when that is not the account Parry runs in, with clients in the case's
        region (where its finding's resources are: `acting_region`). Actions on Parry's own resources
        (its topic) or on what the administrator account holds (GuardDuty archive, Security Hub)
        keep the security account's credentials in the home region, as do the engine's own stores.

        Raises MemberAccountUnavailable rather than fall back to Parry's own credentials, which
        would act in the wrong account, or when the case's region is no longer one Parry acts in.
        """
        if not acts_in_member_account(action) or not case.account:
            return self.aws
        region = case.region or self.aws.region
        if region not in (self.settings.regions or (self.aws.region,)):
            raise MemberAccountUnavailable(
                f"case {case.case_id} acts in region {region}, which is not one Parry acts in "
                f"({', '.join(self.settings.regions or (self.aws.region,))}): add it to PARRY_REGIONS to go on"
            )
        home = self._caller_account()
        if case.account == home:
            return self.aws.in_region(region)
        return self.members.factory(case.account, case_id=case.case_id, home_account=home).in_region(region)

    def acting_region(self, event: dict[str, Any]) -> str:
        """The region a case on the authenticated `event` acts in (parry.routing.placement); EventError
        naming a resource outside the regions Parry is configured for (PARRY_REGIONS)."""
        return acting_region(event, configured=self.settings.regions, home=self.aws.region)

    def action_context(
        self,
        case: Case,
        step_id: str,
        evidence: CaseEvidence | None,
        aws: ClientFactory,
        *,
        reads: dict[tuple[str, ...], Any] | None = None,
    ) -> ActionContext:
        """What the action of step `step_id` of `case` gets to run with (`aws`: see `clients_for`;
        `reads`: what the case's earlier steps of this run read, shared by its steps).

        Its region is the one `aws`'s clients call (the case's region for an action on its resources,
        never the event's envelope): the ARNs an action builds for the protection check and its
        permissions name the resource it changes.
        """
        return ActionContext(
            aws=aws,
            case_id=case.case_id,
            step_id=step_id,
            playbook=case.playbook,
            account=case.account,
            region=aws.region,
            event=case.event,
            evidence=evidence,
            target=case.target,
            topic_arn=self.settings.topic_arn,
            protected_arns=self.settings.protected_arns,
            prior={s.step_id: s.as_dict() for s in case.steps},
            elsewhere=functools.partial(places.context_in, self, case, step_id, evidence),
            run=places.run_one,
            reads={} if reads is None else reads,
        )

    def kill_switch_on(self) -> bool:
        """Whether Parry must only plan now (parry.engine.kill_switch: on, missing or unreadable)."""
        return self.kill_switch.read().on

    def _stop_if_switched(self, case: Case, step: Step, evidence: CaseEvidence) -> None:
        """Before each step of a case that acts: a switch turned on since makes the rest of the case a dry run."""
        if case.dry_run:
            return
        switch = self.kill_switch.read()
        if switch.on:
            case.dry_run = True
            evidence.audit("kill_switch_on", {"step": step.id, "reason": switch.reason, "dry_run": True})

    def authentic(self, event: Any) -> dict[str, Any]:
        """The event with its GuardDuty or Security Hub finding, or CloudTrail record, as the service holds it
        (FindingNotAuthentic otherwise): the trigger is then matched, and the playbook run, on the service's copy."""
        return authentic_event(
            check_envelope(event), self.aws, in_account=self._clients_in, now=self.clock(), detectors=self._detectors
        )

    def _clients_in(self, account: str) -> ClientFactory:
        """Clients reading what `account` holds (its CloudTrail history): Parry's own, or the member role's."""
        home = self._caller_account()
        if account == home:
            return self.aws
        return self.members.factory(account, case_id=f"verify-{account}", home_account=home)

    # ---- plan and run -----------------------------------------------------------------------------

    def plan(self, playbook: Playbook, event: dict[str, Any], *, manual: bool = False) -> Plan:
        """What each step would do given the resources' current state. Read-only API calls only."""
        return read_only_plan(self, playbook, event, manual=manual)

    def run(
        self,
        playbook: Playbook,
        event: dict[str, Any],
        *,
        manual: bool = False,
        remaining_seconds: Callable[[], float] | None = None,
        requested_by: str | None = None,
        requested_via: str | None = None,
        read_from_service: bool = False,
        new_case: bool = False,
    ) -> Case:
        """Claim (or find) the case for this event and run it as far as it can go.

        `requested_by`/`requested_via`: who asked, as AWS verified it, and through what (see Case);
        an automatic run is asked by the AWS service that sent the event. `read_from_service`: the
        caller has just read `event` from its service (a custom action's GuardDuty finding), so it is
        not read a second time; only code can say so, never the event. `new_case`: a person asked for a
        fresh case on a key whose case is closed (parry.engine.dedup).
        """
        self.settings.require()
        held = check_envelope(event) if read_from_service else self.authentic(event)
        event = intake.checked_event(playbook, held, manual=manual)
        target, key = intake.resolve(playbook, event)
        now = self.clock()
        case = Case(
            case_id=cs.new_case_id(now),
            playbook=playbook.name,
            playbook_sha256=playbook.sha256,
            status=cs.RUNNING,
            opened_at=datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds"),
            account=self.account_of(event),
            region=self.acting_region(event),
            dedup=key,
            event=event,
            target=target,
            manual=manual,
            requested_by=requested_by or (None if manual else event.get("source")),
            requested_via=requested_via or (None if manual else event.get("source")),
        )
        case.dry_run = playbook.mode == "dry-run" or self.kill_switch_on()
        owner = uuid.uuid4().hex
        lease = self.lease_seconds(remaining_seconds)
        evidence = self.evidence_for(case)
        case.evidence_prefix = evidence.prefix
        reads: dict[tuple[str, ...], Any] = {}
        ready = first_change.prepare(self, case, playbook, evidence, reads)
        case.inflight = ready.inflight if ready else None  # written with the claim: see parry.engine.first_change
        hourly = HourlyLimits(playbook.max_cases_per_hour, self.settings.max_cases_per_hour)
        replaces: str | None = None
        for _ in range(CLAIM_ATTEMPTS):
            try:
                claimed, fresh, over = self.store.claim(
                    case, lease_seconds=lease, owner=owner, replaces=replaces, hourly=hourly
                )
            except BaseException:
                self.store.release_lease(case.case_id, owner=owner)  # the claim may have been written before the error
                raise
            if fresh:
                break
            try:
                forged = provenance.not_opened_by_parry(claimed, self.evidence_for(claimed))
            except ValueError as exc:  # an account or id no case Parry opened could have
                forged = f"the table's case {claimed.case_id} has no evidence folder: {exc}"
            if forged:
                provenance.log(f"planted case replaced: {forged}", case, planted_case_id=claimed.case_id)
                replaces = claimed.case_id
                continue
            found = dedup.relation(
                claimed, event, now=now, window_seconds=playbook.dedup_window_minutes * 60, new_case=new_case
            )
            if found is dedup.Relation.REDELIVERY:
                return deliveries.redelivered(self, claimed, playbook, event, owner, lease, remaining_seconds)
            if found is dedup.Relation.ATTACH:
                if new_case:
                    raise DecisionError(
                        f"case {claimed.case_id} is {claimed.status} on this key: finish, deny or undo it before "
                        "opening a new case"
                    )
                return deliveries.attach(self, claimed, playbook, event, owner, lease, remaining_seconds, requested_by)
            case.follows = replaces = claimed.case_id  # closed: a new case, linked to it
            if new_case:
                case.history = [{"kind": "new_case", "by": requested_by, "follows": claimed.case_id}]
        else:
            raise CaseBusy(f"the claim on {case.dedup} kept moving: retry this delivery later")
        evidence.new_chain()
        contain_first = ready is not None and case.inflight == ready.inflight  # not stopped by an hourly limit
        if contain_first:
            evidence.hold()  # the opening goes out beside the first change
        try:
            paused = opening.open_case(self, case, playbook, evidence, owner, over=over)
        except BaseException:
            # free the case at once, so the retried delivery resumes it instead of waiting out the lease
            self.store.release_lease(case.case_id, owner=owner)
            raise
        if paused:
            return paused
        self._reads[case.case_id] = reads
        if ready is not None and contain_first:
            self._ready[case.case_id] = ready
        return self.run_on(case, playbook, evidence, owner, remaining_seconds)

    def lease_seconds(self, remaining_seconds: Callable[[], float] | None) -> float:
        return (remaining_seconds() + 5.0) if remaining_seconds else LOCAL_LEASE_SECONDS

    def resume(self, case_id: str, playbook: Playbook, *, remaining_seconds: Callable[[], float] | None = None) -> Case:
        """Continue a RUNNING case (after a continuation or an approval) if no other run holds it.

        `playbook` is the runner's own; the case runs the version sealed in its evidence when it opened
        (parry.engine.versions): WrongPlaybook for another playbook's case, PlaybookNotPermitted (the
        case blocked) when the runner's role does not allow what that version may do, and nothing
        runs; EvidenceMismatch when the sealed audit log does not have the case running on.
        """
        case = self.store.get(case_id)
        if case.playbook != playbook.name:
            raise WrongPlaybook(f"case {case_id} belongs to playbook {case.playbook}, not {playbook.name}: nothing ran")
        owner = uuid.uuid4().hex
        if not self.store.acquire_lease(case_id, owner=owner, seconds=self.lease_seconds(remaining_seconds)):
            return case
        case = self.store.get(case_id)
        if case.status != cs.RUNNING:
            self.store.release_lease(case_id, owner=owner)
            return case
        evidence = self.evidence_for(case)
        try:  # the table says RUNNING; the sealed log must agree (no approval or status written into the table)
            records = sealed.audit_log(case, evidence)
            sealed.check_decisions(case, records)
            playbook = versions.playbook_for(self, case, playbook, evidence=evidence, owner=owner)
            provenance.restore_inputs(case, playbook, evidence, account_of=self.account_of, records=records)
        except BaseException:
            self.store.release_lease(case_id, owner=owner)
            raise
        return self.run_on(case, playbook, evidence, owner, remaining_seconds)

    def run_on(
        self,
        case: Case,
        playbook: Playbook,
        evidence: CaseEvidence,
        owner: str,
        remaining_seconds: Callable[[], float] | None,
    ) -> Case:
        """Run the case's steps from `next_step`, holding its lease as `owner`, as far as it can go."""
        try:
            return self._run_steps(case, playbook, evidence, owner, remaining_seconds)
        finally:
            self._reads.pop(case.case_id, None)  # a later run of the case (a resume, an approval) reads afresh
            self._ready.pop(case.case_id, None)

    def _run_steps(
        self,
        case: Case,
        playbook: Playbook,
        evidence: CaseEvidence,
        owner: str,
        remaining_seconds: Callable[[], float] | None,
    ) -> Case:
        evidence.stream()  # audit records go out as they are made; each checkpoint waits for them
        try:
            while case.next_step < len(playbook.steps):
                if remaining_seconds is not None and remaining_seconds() < STEP_BUDGET_SECONDS:
                    evidence.audit(
                        "case_continued", {"next_step": case.next_step, "reason": "near the Lambda deadline"}
                    )
                    evidence.settle()
                    self.store.save(case, owner=owner, release=True)
                    case.outcome = Outcome.CONTINUE_LATER
                    return case  # still RUNNING: the handler re-invokes to continue
                index = case.next_step
                step = playbook.steps[index]
                self._stop_if_switched(case, step, evidence)
                if (
                    step.approval
                    and not case.dry_run
                    and not approvals.approved(case, approvals.step_gate(step.id))
                    and not when_false(step, case)
                ):
                    gate = approvals.step_gate(step.id)
                    reason = f"step {step.id} requires approval"
                    evidence.stream(False)  # the pause checkpoints right after its record
                    return approvals.pause(self, case, playbook, evidence, owner, index=index, gate=gate, reason=reason)
                try:
                    result = self._run_step(case, step, evidence, owner)
                except MemberAccountUnavailable as exc:
                    return self._block(case, evidence, owner, step, str(exc))
                case.steps = [s for s in case.steps if s.step_id != step.id] + [result]
                case.next_step = index + 1
                if result.status in ABORTING and step.on_error == "abort":
                    case.status = cs.FAILED
                    break
                evidence.settle()  # the step's records land before the checkpoint moves past it
                self.store.save(case, owner=owner)
            else:
                # a case the kill switch stopped after real changes is no dry run: it fell short, and can be undone
                acted = any(s.status in CHANGED and registry.get(s.action).mutating for s in case.steps)
                failed = any(s.status in SHORT or (acted and s.status == PLANNED) for s in case.steps)
                dry = case.dry_run and not acted
                case.status = cs.DRY_RUN if dry else (cs.COMPLETED_WITH_ERRORS if failed else cs.SUCCEEDED)
            evidence.audit("case_closed", {"status": case.status, "case_status": case.status})
            self.seal(
                evidence
            )  # before the closing checkpoint: a crash in between leaves the case RUNNING, to be resealed
            self.store.save(case, owner=owner, release=True)
        except BaseException:
            # leave the checkpoint as it is and free the case, so the retried delivery resumes it
            evidence.abandon()
            self.store.release_lease(case.case_id, owner=owner)
            raise
        return case

    def _run_step(self, case: Case, step: Step, evidence: CaseEvidence, owner: str) -> StepResult:
        try:
            if when_false(step, case):
                result = StepResult(step.id, step.action, SKIPPED, summary=f"when `{step.when}` is false")
                evidence.audit("step_skipped", {"step": step.id, "when": step.when})
                return result
            cls, params = step_action(step, case)
        except ParryError as exc:
            result = StepResult(step.id, step.action, FAILED, error=str(exc))
            evidence.audit("step_failed", {"step": step.id, "error": str(exc)})
            return result
        ready = self._ready.pop(case.case_id, None)
        if ready is not None and (ready.step_id != step.id or case.inflight != ready.inflight):
            ready = None
        # MemberAccountUnavailable: the caller blocks the case here
        aws = ready.ctx.aws if ready else self.clients_for(case, cls)
        started: dict[str, Any] = {"step": step.id, "action": step.action, "params": st.jsonable(params)}
        if aws.role_arn:  # who acts, as the member account's CloudTrail shows it (never the credentials)
            started["acting_as"] = {"account": case.account, "role": aws.role_arn, "session": aws.session_name}
        evidence.audit("step_started", started)
        reads = self._reads.setdefault(case.case_id, {})
        ctx = ready.ctx if ready else self.action_context(case, step.id, evidence, aws, reads=reads)
        # the in-flight record of an interrupted run (not the one this run's claim wrote)
        interrupted = case.inflight if not ready and (case.inflight or {}).get("step") == step.id else None

        def checkpoint_inflight(pending: StepResult) -> None:
            inflight = {"step": step.id, "before": pending.before, "undo": pending.undo}
            case.inflight = self.inflight_seals.seal(case.case_id, inflight)
            self.store.save(case, owner=owner)

        result = st.execute(
            ready.action if ready else cls(),
            ctx,
            params,
            dry_run=case.dry_run,
            before_apply=None if ready else checkpoint_inflight,  # the claim wrote a ready step's record
            after_apply=evidence.send,  # what is held (a new case's opening) goes out once the change is made
            seen=ready.seen if ready else None,
        )
        evidence.settle()
        if result.status == NOOP and interrupted is not None:
            # an interrupted run made this change before it could checkpoint the step: it is this case's change,
            # undone as its in-flight record says if a runner sealed that record (see parry.engine.inflight_seal)
            result.status = SUCCEEDED
            result.summary = result.summary.removesuffix(": already done") + " (applied by an interrupted run)"
            if self.inflight_seals.holds(case.case_id, interrupted):
                result.before, result.undo = interrupted["before"], interrupted["undo"]
            else:
                provenance.log(
                    f"the case table's in-flight record of step {step.id} of case {case.case_id} carries no runner's "
                    "seal: the change is recorded as the case's, with no undo",
                    case,
                )
                result.before, result.undo, result.keep_on_undo = None, None, True
                result.summary += "; its in-flight record was not sealed by a runner, so Parry does not undo it"
        case.inflight = None
        if not step.undo:
            result.undo, result.keep_on_undo = None, True
        if cls.mutating and result.before is not None:
            self._store_state(evidence, step.id, result)
        evidence.audit("step_finished", {"step": step.id, "result": result.as_dict()})
        if result.unmet:
            self.tell(*notices.step_short(case, result))
        return result

    def _block(self, case: Case, evidence: CaseEvidence, owner: str, step: Step, error: str) -> Case:
        """Stop at a step Parry has no credentials to run (see parry.aws.members): the case stays RUNNING.

        Not a failed case: the step did not run, nothing was changed, and once the account is set
        up (member role deployed, PARRY_MEMBER_ROLE_NAME set) `parry cases resume` or a redelivery
        runs the case on from this step. Not an exception either: a retried delivery would only
        fail the same way. The on-call is told, as for an approval.
        """
        result = StepResult(
            step.id, step.action, BLOCKED, summary=f"not run: no credentials for account {case.account}", error=error
        )
        case.steps = [s for s in case.steps if s.step_id != step.id] + [result]
        evidence.audit("step_blocked", {"step": step.id, "account": case.account, "error": error})
        evidence.settle()
        self.store.save(case, owner=owner, release=True)
        case.outcome = Outcome.BLOCKED
        self.tell(*notices.case_blocked(case, step.id, error))
        return case

    @staticmethod
    def _store_state(evidence: CaseEvidence, step_id: str, result: StepResult) -> None:
        """Before/after as an artifact (see CaseEvidence.state: never an overwrite)."""
        evidence.state(step_id, {"before": result.before, "after": result.after, "status": result.status})

    def tell(self, subject: str, body: str) -> None:
        """Tell the on-call over Parry's topic, when one is configured (see parry.engine.notices)."""
        notices.tell(self.aws, self.settings.topic_arn, subject, body)

    def seal(self, evidence: CaseEvidence) -> None:
        """Write the next numbered manifest of the case, signed when a signing key is configured."""
        kms = self.aws.client("kms") if self.settings.signing_key_id else None
        evidence.seal(kms=kms, key_id=self.settings.signing_key_id, public_keys=self._public_keys)
