"""Every exception Parry raises on purpose, in one place.

Callers (CLI, Lambda handler) catch ParryError and turn it into one clear line; anything else is a bug.
"""

from __future__ import annotations


class ParryError(Exception):
    """Base of every error Parry reports to a user."""


class PatternError(ParryError):
    """An EventBridge event pattern that EventBridge itself would refuse."""


class ExpressionError(ParryError):
    """A JMESPath expression that does not compile or cannot be evaluated."""


class ValidationError(ParryError):
    """A playbook that fails validation; carries every problem found, not just the first."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class PlaybookNotFound(ParryError):
    """A playbook name or path that does not resolve to a file."""


class EventError(ParryError):
    """An event that is malformed or not of a shape Parry accepts."""


class ActionError(ParryError):
    """An action failed in a way the case should record (named, not a traceback)."""


class ResourceNotFound(ActionError):
    """The action's target does not exist (any more)."""


class ProtectedResource(ActionError):
    """The action refused to touch a protected resource."""


class CaseNotFound(ParryError):
    """No case with that id in the case store."""


class ConfigError(ParryError):
    """A missing or contradictory setting (bucket, table, endpoint)."""


class MemberAccountUnavailable(ParryError):
    """Parry has no credentials for a case's member account (no member role set, or AssumeRole refused).

    The step does not run and the case waits at it: see `parry.aws.members`.
    """


class FindingUnavailable(ParryError):
    """A finding selected in a Security Hub custom action that Parry cannot read (gone, GuardDuty
    off, access denied): named, and the other selected findings still run."""


class VerifyError(ParryError):
    """The verifier could not run (unreadable export, bad public key file)."""


class EvidenceError(ParryError):
    """Evidence could not be written as the layout requires."""


class EvidenceConflict(EvidenceError):
    """A write-once evidence key already holds different bytes."""


class UndoError(ParryError):
    """The case or step cannot be undone as asked."""


class UndoRefused(UndoError):
    """A runner was asked to undo a case that holds no pending request for it: nothing was done."""


class DecisionError(ParryError):
    """The case is not waiting for a decision (or no longer is)."""


class CaseBusy(ParryError):
    """Another invocation holds the case's lease: retry the delivery later, do not drop it."""


class EventNotYetRecorded(CaseBusy):
    """A CloudTrail event CloudTrail's history does not hold yet (it lags EventBridge): the runner fails the
    delivery as for a busy case, so it is retried, until the event is too old (parry.routing.cloudtrail)."""


class SigningError(ParryError):
    """The configured KMS key cannot sign manifests (wrong spec, usage or algorithm)."""


class PlantedClaim(ParryError):
    """A claim item that is not its playbook's own: written by someone else, never a duplicate."""

    def __init__(self, case_id: str, reason: str):
        super().__init__(reason)
        self.case_id = case_id


class SeparationOfDuties(DecisionError):
    """The person deciding is the one who asked: the decision needs someone else."""


class ReplayedDecision(DecisionError):
    """A decision that does not fit the case now (another gate, case or playbook version) or was used before."""


class WrongPlaybook(ParryError):
    """A case asked of a runner that is not its playbook's (its role acts for another playbook)."""


class PlaybookNotPermitted(ParryError):
    """A runner whose own playbook is another version of the case's, and whose role does not allow what
    the version sealed in the case may do: the case is blocked, recorded and told, and nothing ran."""


class EvidenceMismatch(ParryError):
    """The case table says what the case's sealed audit log does not (a fabricated case, approval or
    undo written into the table): nothing is done."""


class ForgedRequest(ParryError):
    """A control request the runner cannot verify as the control plane's (bad MAC, expired, another
    playbook's, the wrong key): refused as a security event, nothing changed."""


class Unauthorized(ParryError):
    """The verified caller may not ask the front door for this (not an on-call or approver role, or
    approving what they asked for themselves)."""


class FindingNotAuthentic(ParryError):
    """A GuardDuty or Security Hub finding, or a CloudTrail event, its service does not confirm: unknown
    there, or naming another account, region, resource or call than the service holds. Nothing runs on it."""


# What a request or event that tries to make Parry act beyond what it may raises: the runner logs each as
# a security event (with the SecurityRejections metric) and changes nothing.
SECURITY_REFUSALS: tuple[type[ParryError], ...] = (
    ForgedRequest,
    Unauthorized,
    SeparationOfDuties,
    ReplayedDecision,
    WrongPlaybook,
    EvidenceMismatch,
    PlantedClaim,
    FindingNotAuthentic,
)
