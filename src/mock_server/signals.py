"""How a served mock stops: SIGINT, SIGTERM and SIGHUP all end it cleanly.

uvicorn handles SIGINT and SIGTERM itself, but after its graceful shutdown
it raises the signal again, so a SIGTERM (what docker, systemd and CI
timeouts send) kills the process before `serve` can remove its credentials
file; SIGHUP (a closed terminal) it does not handle at all. `StoppableServer`
catches all three, shuts down as uvicorn does (a second signal forces it),
and returns normally, naming the signal in `stopped_by`.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

import uvicorn

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class StoppableServer(uvicorn.Server):
    """A uvicorn server that stops on SIGINT, SIGTERM or SIGHUP and returns."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.stopped_by: str | None = None
        self._catching = False

    def stop_on_signal(self, signum: int, frame: FrameType | None) -> None:
        """Begin a graceful shutdown (a second signal forces it)."""
        self.stopped_by = signal.Signals(signum).name
        if self.should_exit:
            self.force_exit = True
        self.should_exit = True

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """While inside, the stop signals shut the server down; re-entrant, so
        `serve` can catch them before uvicorn starts. Nothing is raised again
        on the way out."""
        if self._catching or threading.current_thread() is not threading.main_thread():
            yield
            return
        originals = {sig: signal.signal(sig, self.stop_on_signal) for sig in STOP_SIGNALS}
        self._catching = True
        try:
            yield
        finally:
            self._catching = False
            for sig, handler in originals.items():
                signal.signal(sig, handler)
