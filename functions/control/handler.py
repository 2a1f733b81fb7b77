"""The front door Lambda's entry point (`handler.handler`), behind a function URL with AuthType AWS_IAM;
parry.runtime.front_door does the work."""

from __future__ import annotations

from parry.runtime.front_door import lambda_handler as handler

__all__ = ["handler"]
