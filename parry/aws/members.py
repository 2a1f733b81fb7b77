"""Acting in member accounts through the role the MemberAccount stack creates there.

A finding from member account 222222222222 must be acted on in that account, never with the
security account's own credentials. For each case in a member account the engine assumes
`arn:<partition>:iam::<account>:role/<PARRY_MEMBER_ROLE_NAME>` (with PARRY_MEMBER_EXTERNAL_ID when
set) under a session name that names the case, so the member account's CloudTrail ties every call
to it. Credentials live only in memory, for one account at a time per engine, and are replaced
before they expire (the role's sessions last an hour; Lambda containers live longer).

When Parry cannot get credentials (no member role configured, or AssumeRole refused because the
role is missing or does not trust this runner), it raises MemberAccountUnavailable: the engine
does not run the step and leaves the case waiting at it, resumable once the account is set up.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from parry.aws.arns import role_arn
from parry.aws.errors import describe_error
from parry.errors import MemberAccountUnavailable

if TYPE_CHECKING:
    from parry.aws.clients import ClientFactory

# Replace credentials this long before they expire: a step must not start on credentials that
# could run out while it waits on an API (the runner's steps end well within this).
REFRESH_MARGIN_SECONDS = 600.0
SESSION_NAME_MAX = 64  # STS: 2 to 64 characters of [\w+=,.@-]


def session_name(case_id: str) -> str:
    """A RoleSessionName STS accepts that names the case (shown in the member's CloudTrail)."""
    return re.sub(r"[^\w+=,.@-]", "-", f"parry-{case_id}")[:SESSION_NAME_MAX]


class MemberAccounts:
    """Client factories for member accounts: one assumed session per account, refreshed before expiry.

    The cached session is for the case that used it last: another case in the same account gets a
    session of its own, named for it (a container runs one invocation at a time, so this costs one
    AssumeRole per case and account, not one per step).
    """

    def __init__(
        self,
        aws: ClientFactory,
        *,
        role_name: str | None,
        external_id: str | None,
        caller_arn: Callable[[], str],
        clock: Callable[[], float],
    ):
        self.aws = aws
        self.role_name = role_name
        self.external_id = external_id
        self._caller_arn = caller_arn
        self._clock = clock
        self._sessions: dict[str, ClientFactory] = {}
        self._lock = threading.Lock()

    def factory(self, account: str, *, case_id: str, home_account: str) -> ClientFactory:
        """Clients acting in `account` for case `case_id`; MemberAccountUnavailable if Parry has none."""
        from botocore.exceptions import ClientError, ParamValidationError

        if not self.role_name:
            raise MemberAccountUnavailable(
                f"case {case_id} is in account {account}, but Parry runs in account {home_account} and "
                "PARRY_MEMBER_ROLE_NAME is not set: set it to the role the ParryMember stack creates in member "
                "accounts (parry-member-<playbook>). Parry will not act on another account's resources with the "
                f"credentials of account {home_account}."
            )
        name = session_name(case_id)
        with self._lock:
            cached = self._sessions.get(account)
            if cached is not None and cached.session_name == name and self._fresh(cached):
                return cached
            arn = role_arn(self._caller_arn(), account, self.role_name)
            try:
                factory = self.aws.assume(arn, external_id=self.external_id, session_name=name)
            except (ClientError, ParamValidationError) as exc:
                # refused or malformed: waiting will not help. A network error propagates instead,
                # so the delivery is retried and resumes the case at this step.
                raise MemberAccountUnavailable(_refused(arn, account, self.external_id, exc)) from exc
            self._sessions[account] = factory
            return factory

    def _fresh(self, factory: ClientFactory) -> bool:
        return factory.expires_at is not None and self._clock() < factory.expires_at - REFRESH_MARGIN_SECONDS


def _refused(arn: str, account: str, external_id: str | None, exc: Exception) -> str:
    hint = (
        "deploy the ParryMember stack in that account (or StackSet), and check that the role trusts this "
        "playbook's runner role" + (" with the configured ExternalId (PARRY_MEMBER_EXTERNAL_ID)" if external_id else "")
    )
    return f"cannot act in account {account}: assuming {arn} failed ({describe_error(exc)}): {hint}"
