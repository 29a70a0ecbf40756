"""Wait until a served mock answers, and check that it answers as the contract says.

Usage: python scripts/wait_for_mock.py URL PID [SECONDS]

Polls `GET URL/registry/auth` without credentials until it answers, the
process PID exits, or SECONDS (default 60) pass. Exit 0 when the answer is
the contract's `401 {"detail": "Can't find a user with that api key in our
db :("}` (behaviour §2), else 1 with the reason on stderr.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request

NO_CREDENTIALS = {"detail": "Can't find a user with that api key in our db :("}


def alive(pid: int) -> bool:
    """Whether PID runs (an exited child not yet reaped by its shell counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return True


def answer(url: str) -> tuple[int, str, bytes] | None:
    """(status, content type, body) of GET url, or None while nothing listens."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, response.headers.get("content-type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("content-type", ""), error.read()
    except OSError:
        return None


def main(argv: list[str]) -> int:
    base, pid = argv[1].rstrip("/"), int(argv[2])
    deadline = time.monotonic() + (float(argv[3]) if len(argv) > 3 else 60.0)
    while time.monotonic() < deadline:
        got = answer(f"{base}/registry/auth")
        if got is not None:
            status, content_type, body = got
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
            if (status, content_type, parsed) == (401, "application/json", NO_CREDENTIALS):
                return 0
            print(
                f"{base}/registry/auth answered {status} {content_type}: {body[:200]!r}",
                file=sys.stderr,
            )
            return 1
        if not alive(pid):
            print(f"the server (pid {pid}) exited before answering", file=sys.stderr)
            return 1
        time.sleep(0.1)
    print(f"{base} did not answer in time", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
