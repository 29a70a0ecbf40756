"""`chutes-mock serve` stops cleanly on SIGINT, SIGTERM and SIGHUP: exit 0,
its credentials file (live keys and JWTs) removed, and the stop logged."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

CLI = [sys.executable, "-m", "mock_server"]


def wait_for(path: Path, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert process.poll() is None, "serve exited before writing its credentials file"
        assert time.monotonic() < deadline, "no credentials file"
        time.sleep(0.05)


STOP_SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]


@pytest.mark.parametrize("sig", STOP_SIGNALS, ids=lambda s: s.name)
def test_a_stop_signal_ends_serve_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    credentials = tmp_path / "c.json"
    with subprocess.Popen(
        [*CLI, "serve", "--port", "0", "--credentials-file", str(credentials)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            wait_for(credentials, process)
            url = json.loads(credentials.read_text())["url"]
            # Serving: its first answer comes once uvicorn has taken over the signals too.
            assert httpx.get(f"{url}/openapi.json", timeout=30).status_code == 200
            process.send_signal(sig)
            code = process.wait(timeout=30)
            log = process.stderr.read()
        finally:
            process.kill()
    assert code == 0, log
    assert not credentials.exists()
    assert f"chutes-mock stopped ({sig.name})" in log
    assert "Traceback" not in log


def test_a_signal_before_uvicorn_starts_still_removes_the_file(tmp_path: Path) -> None:
    """A stop that comes while the banner is printed: the file goes all the same."""
    credentials = tmp_path / "c.json"
    with subprocess.Popen(
        [*CLI, "serve", "--port", "0", "--credentials-file", str(credentials)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            wait_for(credentials, process)
            process.send_signal(signal.SIGTERM)  # at once: uvicorn may not serve yet
            code = process.wait(timeout=30)
        finally:
            process.kill()
    assert code == 0
    assert not credentials.exists()


def test_sigterm_with_a_client_stalled_mid_body_ends_at_once(tmp_path: Path) -> None:
    """A client that sends half a body and waits does not hold the stop up."""
    import socket

    credentials = tmp_path / "c.json"
    with subprocess.Popen(
        [*CLI, "serve", "--port", "0", "--credentials-file", str(credentials)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            wait_for(credentials, process)
            host, port = json.loads(credentials.read_text())["url"][7:].rsplit(":", 1)
            with socket.create_connection((host, int(port))) as stalled:
                stalled.sendall(
                    b"POST /api_keys/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"
                )
                time.sleep(0.3)
                started = time.monotonic()
                process.send_signal(signal.SIGTERM)
                code = process.wait(timeout=30)
                took = time.monotonic() - started
            log = process.stderr.read()
        finally:
            process.kill()
    assert (code, took < 5) == (0, True), log
    assert not credentials.exists()
    assert "Traceback" not in log
