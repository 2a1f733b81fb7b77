"""`parry`: the command line of the on-call engineer, the playbook author and the auditor.

Every error is one line on stderr and a non-zero exit; a traceback means a bug in Parry. A usage
error is click's: the usage line and its message, exit 2. A well-formed `parry run` starts without
typer (parry.cli.run_args); every other command goes through typer's app (parry.cli.app).
"""

from __future__ import annotations

import os
import sys

from parry.aws.errors import describe_error, refusal
from parry.cli.render import inert
from parry.errors import ParryError


def error_line(exc: BaseException) -> str:
    """One clear line for an error a user can act on."""
    if refusal(exc) is not None:
        return describe_error(exc)
    name = type(exc).__name__
    if name in (
        "NoCredentialsError",
        "PartialCredentialsError",
        "NoRegionError",
        "EndpointConnectionError",
        "ProfileNotFound",
        "ConnectTimeoutError",
        "ReadTimeoutError",
    ):
        return f"{exc}"
    if isinstance(exc, (OSError, ValueError)):
        return f"{exc}"
    return f"unexpected {name}: {exc}"


def main(argv: list[str] | None = None) -> None:
    """`parry ARGS`; exits (SystemExit) with the command's code when it is not 0."""
    from parry.cli.run_args import parse

    args = sys.argv[1:] if argv is None else list(argv)
    try:
        request = parse(args)
        if request is not None:
            from parry.cli.common import local_credentials
            from parry.cli.starting import start

            local_credentials()
            code = start(request)
        else:
            from parry.cli.app import run_app

            code = run_app(args)
    except ParryError as exc:
        for line in str(exc).splitlines() or [type(exc).__name__]:
            print(f"parry: {inert(line)}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # boto/botocore and OS errors: one line, never a traceback
        if os.environ.get("PARRY_DEBUG"):
            raise
        print(f"parry: {inert(error_line(exc))}", file=sys.stderr)
        sys.exit(2)
    if code:
        sys.exit(code)


def entry() -> None:
    """The `parry` program: `main`, then an exit that skips the interpreter's teardown.

    Tearing down the botocore clients a command made takes the interpreter 110-200 ms after the
    command is done (measured on this machine with seven clients); once the output is flushed and
    the evidence writers joined, nothing is left to clean up that the operating system does not.
    """
    try:
        main()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    finish(code)


def finish(code: object) -> None:
    """Exit now with `code` (a SystemExit's: a message means 1), once what a normal exit finishes is done."""
    import atexit
    import logging
    import threading

    if code is not None and not isinstance(code, int) and sys.stderr is not None:  # sys.exit("message"): exit 1
        print(code, file=sys.stderr)
    status = code if isinstance(code, int) else 0 if code is None else 1
    writer = sys.modules.get("parry.evidence.writer")
    if writer is not None:
        writer.shut_down_writers()
    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        sys.exit(status)  # a thread still at work: the interpreter's own exit waits for it
    atexit._run_exitfuncs()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:  # None: started with the stream closed (`parry ... >&-`)
                stream.flush()
        except (OSError, ValueError):  # a reader that went away (`parry ... | head`), a stream closed
            pass
    os._exit(status)
