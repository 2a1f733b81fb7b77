"""What an AWS service said when it refused a call, read from the exception botocore raised.

botocore's ClientError carries the parsed error response (`exc.response["Error"]`, the HTTP
status in `ResponseMetadata`) and the operation's name; everything Parry decides or reports about
a refused call reads those here, so each caller agrees on the code and every message has one form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MESSAGE_LIMIT = 300  # characters of the service's message kept in a one-line description


@dataclass(frozen=True)
class Refusal:
    """One refused AWS call: the operation, the service's error code and message, the HTTP status."""

    operation: str | None
    code: str
    message: str
    status: int


def refusal(exc: BaseException) -> Refusal | None:
    """The refusal `exc` carries (a botocore ClientError, or alike), or None for any other error."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict) or not isinstance(response.get("Error"), dict):
        return None
    error = response["Error"]
    metadata = response.get("ResponseMetadata")
    status = metadata.get("HTTPStatusCode") if isinstance(metadata, dict) else None
    return Refusal(
        getattr(exc, "operation_name", None),
        str(error.get("Code", "")),
        str(error.get("Message") or ""),
        status if isinstance(status, int) else 0,
    )


def error_code(exc: BaseException) -> str:
    """The service's error code (`NoSuchKey`, `AccessDenied` ...); empty when `exc` is no refusal."""
    refused = refusal(exc)
    return refused.code if refused is not None else ""


def describe_error(exc: BaseException) -> str:
    """One line for a failed call: `Operation failed: Code: message`, or the exception's type and text."""
    refused = refusal(exc)
    if refused is None:
        return f"{type(exc).__name__}: {exc}"
    message = re.sub(r"<[^>]+>", " ", refused.message)  # an HTML error page from a proxy or emulator
    message = " ".join(message.split())[:MESSAGE_LIMIT]
    return f"{refused.operation or 'call'} failed: {refused.code}: {message}"
