"""The maintenance Lambda's entry point (`maintenance.handler`); parry.runtime.maintenance does the work."""

from __future__ import annotations

from parry.runtime.maintenance import handler

__all__ = ["handler"]
