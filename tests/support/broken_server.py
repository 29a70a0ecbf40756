"""Serve mocks broken on purpose (`support.breakages`), for the teeth by URL.

    python -m tests.support.broken_server NAME[@QUIRKS] ...

Test-only: the product has no such switch. The launcher imports the mock
once, then forks one child per breakage: the child applies its breakage
(monkeypatching, as in-process) and serves that mock with uvicorn on a free
loopback port. It prints `NAME[@QUIRKS] PORT` per child, then `ready`, and
stops the children when it is terminated or its stdin closes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _serve(name: str, quirks: str, sock: socket.socket) -> None:
    """In the child: break the mock, then serve it on `sock` until killed."""
    import pytest
    import uvicorn

    from mock_server.app import create_app
    from mock_server.connections import close_after_500
    from mock_server.quirks import parse_quirks
    from mock_server.settings import Settings
    from tests.support.breakages import BREAKAGES

    patcher = pytest.MonkeyPatch()
    overrides = BREAKAGES[name](patcher) if name != "none" else {}
    app = create_app(Settings(quirks=parse_quirks(quirks or None), **overrides))
    served = close_after_500(app)  # as `chutes-mock serve`
    config = uvicorn.Config(served, log_level="error", lifespan="off", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def _parse_specs_once() -> None:
    """Parse the OpenAPI documents here, once: each child gets its own copy
    instead of parsing the YAML again (the children's main start-up cost)."""
    import copy

    from mock_server import spec
    from mock_server.settings import Settings

    parse = spec.load_document
    parsed: dict = {}

    def load_document(path):
        if path not in parsed:
            parsed[path] = parse(path)
        return copy.deepcopy(parsed[path])

    spec.load_document = load_document  # this launcher's process (and its children) only
    defaults = Settings()
    load_document(defaults.spec_path)
    load_document(defaults.control_spec_path)


def main(specs: list[str]) -> None:
    # Imported once, before forking: each child would otherwise pay for them again.
    import pytest  # noqa: F401
    import uvicorn  # noqa: F401

    import mock_server.app
    import mock_server.quirks
    import mock_server.settings  # noqa: F401
    import tests.support.breakages  # noqa: F401

    _parse_specs_once()
    children: list[int] = []
    for spec in specs:
        name, _, quirks = spec.partition("@")
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            try:
                _serve(name, quirks, sock)
            finally:
                os._exit(0)
        children.append(pid)
        print(spec, sock.getsockname()[1], flush=True)
        sock.close()

    def stop(*_: object) -> None:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        for pid in children:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    print("ready", flush=True)
    sys.stdin.read()  # the parent closes it (or dies): stop
    stop()


@contextlib.contextmanager
def launched(specs: list[str]) -> Iterator[dict[str, str]]:
    """Serve `specs` (NAME[@QUIRKS]) with one launcher: spec -> base URL,
    until the block ends."""
    launcher = subprocess.Popen(
        [sys.executable, "-m", "tests.support.broken_server", *specs],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        urls = {}
        assert launcher.stdout is not None
        for line in launcher.stdout:
            if line.strip() == "ready":
                break
            spec, port = line.split()
            urls[spec] = f"http://127.0.0.1:{port}"
        assert set(urls) == set(specs), urls
        yield urls
    finally:
        launcher.terminate()
        launcher.wait(timeout=30)


if __name__ == "__main__":
    main(sys.argv[1:])
