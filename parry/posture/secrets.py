"""Which environment variables look like secrets: by a known credential format, by entropy, or by name.

`classify` takes a function's variables and returns only (name, detector) pairs: the values stay
here and are dropped as soon as they are classified, so nothing downstream (results, logs,
findings, exceptions, reprs) can carry one.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

# Known formats, most specific first: the first that matches names the detector.
_FORMATS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("private-key", re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    ("aws-access-key-id", re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")),
    ("github-token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b")),
    ("slack-token", re.compile(r"\bxox[baprs]-[A-Za-z0-9-]{10,}")),
    ("stripe-secret-key", re.compile(r"\b[sr]k_live_[A-Za-z0-9]{16,}")),
    ("url-credentials", re.compile(r"^[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@", re.IGNORECASE)),
)
# A name that says "secret": matched on the name's words (TOKEN_TTL has TOKEN; MY_APIKEY has APIKEY).
_SECRET_NAME = re.compile(
    r"(?:^|_)(?:SECRETS?|TOKENS?|PASSWORDS?|PASSWD|PWD|PASSPHRASE|API_?KEYS?|PRIVATE_?KEYS?|ACCESS_?KEYS?|"
    r"SECRET_?KEYS?|CREDENTIALS?|CREDS|AUTH_?KEYS?|SIGNING_?KEYS?|CLIENT_SECRET|DSN)(?:_|$)"
)
# Values a secret-sounding name may hold without being a secret: numbers and durations (TOKEN_TTL=300),
# booleans, and references to where the secret really is (an ARN, an SSM parameter path).
_PLAIN_VALUE = re.compile(
    r"^(?:\d{1,12}(?:\.\d+)?[smhd]?|true|false|yes|no|on|off|none|null|arn:[\w-]+:[\w-]+:.*|/[\w./-]+)$",
    re.IGNORECASE,
)
HIGH_ENTROPY_MIN_LENGTH = 20
HIGH_ENTROPY_BITS = 4.0  # bits per character: random base64 of 20+ characters is above, words and names below


@dataclass(frozen=True)
class SecretVariable:
    """An environment variable that looks like a secret: its name and why, never its value."""

    name: str
    detector: str


def shannon_entropy(text: str) -> float:
    """Bits per character of `text`'s own character distribution."""
    if not text:
        return 0.0
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _high_entropy(value: str) -> bool:
    """Random-looking: long, no spaces, upper and lower case and digits, not a hex digest, URL or path."""
    if len(value) < HIGH_ENTROPY_MIN_LENGTH or any(c.isspace() for c in value):
        return False
    if value.startswith(("arn:", "/", "http://", "https://")) or re.fullmatch(r"[0-9a-fA-F-]+", value):
        return False
    classes = (any(c.islower() for c in value), any(c.isupper() for c in value), any(c.isdigit() for c in value))
    return all(classes) and shannon_entropy(value) >= HIGH_ENTROPY_BITS


def detector(name: str, value: str) -> str | None:
    """Which detector finds a secret in (name, value), or None; the answer never includes the value."""
    for label, pattern in _FORMATS:
        if pattern.search(value):
            return label
    if _high_entropy(value):
        return "high-entropy"
    if _SECRET_NAME.search(name.upper()) and value.strip() and not _PLAIN_VALUE.match(value.strip()):
        return "secret-name"
    return None


def classify(variables: Mapping[str, str]) -> tuple[SecretVariable, ...]:
    """The variables of `variables` that look like secrets, by name, sorted; no value survives the call."""
    found = []
    for name, value in variables.items():
        label = detector(name, str(value))
        if label is not None:
            found.append(SecretVariable(name, label))
    return tuple(sorted(found, key=lambda hit: hit.name))
