"""A sweep: every function of every (account, region) in scope read and checked, regions in parallel.

Each (account, region) runs in its own thread with its own Lambda client; within a region the
functions are read by a few threads more, since a sweep spends its time waiting on the API.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from parry.aws.errors import describe_error, error_code
from parry.posture.checks import check_function, layer_public
from parry.posture.reader import (
    NOT_FOUND,
    RegionRead,
    RoleReader,
    event_sources_by_function,
    function_configs,
    read_function,
    read_layer_versions,
)
from parry.posture.results import CHECKS, SEVERITIES, Result

if TYPE_CHECKING:
    from parry.aws.clients import ClientFactory

FUNCTION_WORKERS = 8  # per region: enough to keep a region's reads in flight, few enough not to be throttled
REGION_WORKERS = 16  # (account, region) pairs read at once; an organization-wide sweep queues the rest


@dataclass(frozen=True)
class Scope:
    """One account and region to sweep, and the clients acting in that account."""

    account: str
    region: str
    aws: ClientFactory


@dataclass
class SweepReport:
    scopes: list[Scope] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)
    regions: list[RegionRead] = field(default_factory=list)
    functions: int = 0
    unreachable: list[str] = field(default_factory=list)  # accounts the sweep could not enter

    @property
    def problems(self) -> list[str]:
        return [*self.unreachable, *(problem for region in self.regions for problem in region.problems)]


def _read_region(scope: Scope, roles: RoleReader, workers: int) -> tuple[RegionRead, list[Result]]:
    from botocore.exceptions import ClientError

    read = RegionRead(scope.account, scope.region)
    lam = scope.aws.client("lambda", scope.region)
    try:
        sources = event_sources_by_function(lam)
        configs = list(function_configs(lam))
        layer_results = [
            found for layer in read_layer_versions(lam, scope.account, scope.region) for found in layer_public(layer)
        ]
    except ClientError as exc:
        read.complete = False
        read.problems.append(
            f"{scope.account} {scope.region}: cannot list functions, event source mappings or layers: {describe_error(exc)}"
        )
        return read, []

    def one(config: dict[str, Any]) -> None:
        arn = config["FunctionArn"]
        try:
            read.functions.append(read_function(lam, roles, config, sources.get(arn, []), scope.account, scope.region))
        except ClientError as exc:
            if error_code(exc) == NOT_FOUND:
                return  # deleted while the sweep read it
            read.unreadable.add(arn)
            read.problems.append(f"{arn}: {describe_error(exc)}")

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"sweep-{scope.region}") as pool:
        list(pool.map(one, configs))
    read.functions.sort(key=lambda facts: facts.arn)
    return read, layer_results


def sweep(
    scopes: Sequence[Scope],
    *,
    unreachable: Sequence[str] = (),
    today: date | None = None,
    workers: int = FUNCTION_WORKERS,
) -> SweepReport:
    """Every result of every check on every function (and layer version) in `scopes`, most severe first;
    `unreachable` (from `enter`) goes into the report's problems."""
    today = today or date.today()
    roles: dict[str, RoleReader] = {}
    for scope in scopes:
        roles.setdefault(scope.account, RoleReader(scope.aws))
    report = SweepReport(scopes=list(scopes), unreachable=list(unreachable))
    if not scopes:
        return report
    with ThreadPoolExecutor(max_workers=max(1, min(REGION_WORKERS, len(scopes))), thread_name_prefix="sweep") as pool:
        reads = list(pool.map(lambda s: _read_region(s, roles[s.account], workers), scopes))
    for read, layer_results in reads:
        report.regions.append(read)
        report.functions += len(read.functions)
        report.results.extend(layer_results)
        report.results.extend(found for facts in read.functions for found in check_function(facts, today))
    order = [check.check_id for check in CHECKS]
    report.results.sort(
        key=lambda x: (SEVERITIES.index(x.severity), order.index(x.check_id), x.account, x.region, x.resource_arn)
    )
    return report


@dataclass(frozen=True)
class Entered:
    """The (account, region) scopes a sweep can read, and a line for each account it could not enter."""

    scopes: list[Scope]
    unreachable: list[str]


def enter(
    aws: ClientFactory,
    regions: Sequence[str],
    accounts: Sequence[str] = (),
    *,
    member_role_name: str | None = None,
    member_external_id: str | None = None,
) -> Entered:
    """The caller's own account, or each of `accounts` through the member role, entered in parallel.

    An account whose role cannot be assumed (missing, not trusting the caller, no role name given)
    is a line in `unreachable`, and the others are swept all the same.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    from parry.aws.arns import role_arn
    from parry.errors import ConfigError

    malformed = [account for account in accounts if not (len(account) == 12 and account.isdigit())]
    if malformed:
        raise ConfigError(f"an account id is 12 digits: {', '.join(repr(a) for a in malformed)}")

    identity = aws.client("sts").get_caller_identity()
    home, caller = identity["Account"], identity["Arn"]

    def one(account: str) -> ClientFactory | str:
        if account == home:
            return aws
        if not member_role_name:
            return (
                f"account {account}: sweeping it from {home} needs PARRY_SWEEP_ROLE_NAME or PARRY_MEMBER_ROLE_NAME "
                "(the ParryMember stack's sweep role, or a role you may assume)"
            )
        arn = role_arn(caller, account, member_role_name)
        try:
            return aws.assume(arn, external_id=member_external_id, session_name="parry-sweep")
        except (ClientError, BotoCoreError) as exc:
            return f"account {account}: assuming {arn} failed: {describe_error(exc)}"

    wanted = list(dict.fromkeys(accounts or [home]))
    with ThreadPoolExecutor(max_workers=max(1, min(REGION_WORKERS, len(wanted))), thread_name_prefix="enter") as pool:
        entered = dict(zip(wanted, pool.map(one, wanted), strict=True))
    return Entered(
        [Scope(a, region, f) for a, f in entered.items() if not isinstance(f, str) for region in regions],
        [f for f in entered.values() if isinstance(f, str)],
    )


def scopes(
    aws: ClientFactory,
    regions: Sequence[str],
    accounts: Sequence[str] = (),
    *,
    member_role_name: str | None = None,
    member_external_id: str | None = None,
) -> list[Scope]:
    """`enter`, all or nothing: MemberAccountUnavailable names each account it could not enter."""
    from parry.errors import MemberAccountUnavailable

    entered = enter(aws, regions, accounts, member_role_name=member_role_name, member_external_id=member_external_id)
    if entered.unreachable:
        raise MemberAccountUnavailable("cannot sweep " + "; ".join(entered.unreachable))
    return entered.scopes
