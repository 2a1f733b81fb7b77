"""The global kill switch, read before every change a case or an undo makes.

Only the value `off` lets Parry act. `on`, any other value, a deleted parameter or one Parry cannot
read (throttled, denied, SSM down) all mean dry run: a switch that fails must fail safe, or deleting
the parameter would turn Parry back on. A reading is kept for at most CACHE_SECONDS per process, so
a switch turned on stops the next step of every case within that time; the first failed reading
after a good one is told to the on-call, since Parry then plans and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from parry.aws.errors import describe_error

if TYPE_CHECKING:
    from parry.aws.clients import ClientFactory

CACHE_SECONDS = 10.0
ENFORCE = "off"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reading:
    """What the switch said: `reason` is why Parry must only plan (None: it may act)."""

    reason: str | None
    failed: bool = False  # the parameter is missing or could not be read

    @property
    def on(self) -> bool:
        return self.reason is not None


OFF = Reading(None)


class KillSwitch:
    """The switch in SSM parameter `parameter` (None: no switch configured, Parry acts)."""

    def __init__(
        self,
        aws: ClientFactory,
        parameter: str | None,
        *,
        clock: Callable[[], float],
        tell: Callable[[str, str], None],
    ) -> None:
        self.aws, self.parameter, self.clock, self.tell = aws, parameter, clock, tell
        self._reading: Reading | None = None
        self._read_at = 0.0

    @property
    def failing(self) -> bool:
        """Whether the last reading failed (the runner counts it: metric KillSwitchUnreadable, alarmed)."""
        return self._reading is not None and self._reading.failed

    def read(self) -> Reading:
        """The switch as read at most CACHE_SECONDS ago (a clock that went back reads again)."""
        if not self.parameter:
            return OFF
        now = self.clock()
        if self._reading is not None and 0.0 <= now - self._read_at < CACHE_SECONDS:
            return self._reading
        reading = self._fetch(self.parameter)
        if reading.failed and not (self._reading is not None and self._reading.failed):
            self._alarm(reading)
        self._reading, self._read_at = reading, now
        return reading

    def _fetch(self, name: str) -> Reading:
        ssm = self.aws.client("ssm")
        try:
            value = ssm.get_parameter(Name=name)["Parameter"]["Value"]
        except ssm.exceptions.ParameterNotFound:
            return Reading(f"the kill switch {name} is missing: dry run until it is recreated as `off`", failed=True)
        except Exception as exc:  # any failure to read is a switch that cannot say `off`
            return Reading(f"the kill switch {name} cannot be read ({describe_error(exc)}): dry run", failed=True)
        if value.strip().lower() == ENFORCE:
            return OFF
        return Reading(f"the kill switch {name} is {value.strip()!r}: dry run")

    def _alarm(self, reading: Reading) -> None:
        log.error("kill switch unreadable", extra={"parameter": self.parameter, "reason": reading.reason})
        try:
            self.tell(
                "kill switch unreadable: every case is a dry run",
                f"{reading.reason}.\n\nParry plans and records every step but changes nothing until "
                f"`aws ssm put-parameter --name {self.parameter} --value off --type String --overwrite` succeeds.\n",
            )
        except Exception as exc:  # the alarm must never turn the fail-safe into a failed case
            log.error("kill switch alarm not sent", extra={"error": describe_error(exc)})
