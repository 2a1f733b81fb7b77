"""One contender of bench/peers.py in a process of its own: Parry's runner handler, the hand-written
responder, or Cloud Custodian (run with the c7n venv's Python; imports no Parry and no moto).

    python bench/peers_worker.py CONTENDER serve       # warm: one JSON job a line on stdin, one answer a line
    python bench/peers_worker.py CONTENDER once FILE   # whole process: the job in FILE, once

A job is {"event": ...} (FILE: the event); the answer {"start": ..., "end": ..., "error": ...} in time.monotonic(),
the clock the counting server in bench/peers.py also reads. CONTENDER is parry, handwritten or
c7n; what it needs comes from the environment (PARRY_... settings, PEERS_SCENARIO, PEERS_POLICY).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


class Context:
    """What Lambda passes a handler, as far as Parry reads it."""

    function_name = "parry-peers"
    aws_request_id = "peers"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:parry-peers"
    memory_limit_in_mb = 512

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def parry() -> Callable[[dict[str, Any]], Any]:
    sys.path[:0] = [str(ROOT / "functions" / "runner"), str(ROOT)]
    import handler  # the Lambda's entry point, as the runtime imports it

    def run(event: dict[str, Any]) -> Any:
        answer = handler.handler(event, Context())
        if answer.get("status") not in ("SUCCEEDED",):
            raise RuntimeError(f"Parry answered {answer}")
        return answer

    return run


def handwritten() -> Callable[[dict[str, Any]], Any]:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from peers_handwritten import Responder

    responder = Responder(os.environ["PARRY_TOPIC_ARN"])
    return responder.contain_key if os.environ["PEERS_SCENARIO"] == "key" else responder.contain_instance


def c7n() -> Callable[[dict[str, Any]], Any]:
    """A policy on the finding's user, run in this process.

    Custodian's guard-duty mode would be its Lambda's way, but 0.9.51's remove-keys fails on the key
    that mode annotates (TypeError: string indices must be integers): so each event gets a pull-mode
    policy filtered to its user, made and run here, its making included in the time.
    """
    import tempfile

    from c7n.config import Config
    from c7n.policy import Policy
    from c7n.resources import load_resources

    load_resources(("aws.iam-user",))
    data = json.loads(os.environ["PEERS_POLICY"])
    options = Config.empty(region="us-east-1", output_dir=tempfile.mkdtemp(prefix="peers-c7n-"), cache_period=0)

    def run(event: dict[str, Any]) -> Any:
        user = event["detail"]["resource"]["accessKeyDetails"]["userName"]
        resources = Policy({**data, "filters": [{"UserName": user}]}, options).run()
        if not resources:
            raise RuntimeError("custodian matched no resource")
        return len(resources)

    return run


CONTENDERS = {"parry": parry, "handwritten": handwritten, "c7n": c7n}


def answer(run: Callable[[dict[str, Any]], Any], job: dict[str, Any]) -> dict[str, Any]:
    start = time.monotonic()
    try:
        run(job["event"])
        error = None
    except Exception as exc:  # the bench reports it beside the figures
        error = f"{type(exc).__name__}: {exc}"[:500]
    return {"start": start, "end": time.monotonic(), "error": error}


def main() -> None:
    contender, mode = sys.argv[1], sys.argv[2]
    out = os.fdopen(os.dup(1), "w")  # answers only: whatever the contender prints goes to stderr
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    run = CONTENDERS[contender]()
    if mode == "once":
        out.write(json.dumps(answer(run, {"event": json.loads(Path(sys.argv[3]).read_text())})) + "\n")
        return
    for line in sys.stdin:
        out.write(json.dumps(answer(run, json.loads(line))) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
