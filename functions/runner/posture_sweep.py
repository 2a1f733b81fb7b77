"""The scheduled posture sweep's entry point (`posture_sweep.handler`); parry.runtime.posture_sweep does the work."""

from __future__ import annotations

from parry.runtime.posture_sweep import handler

__all__ = ["handler"]
