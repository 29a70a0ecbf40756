"""`chutes-mock sign` points at the server it talks to: the base URL from
`--base-url`, CHUTES_BASE_URL, the credentials file or CHUTES_MOCK_PORT, and
with `--nonce server` the mock's own clock, however it was moved."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from mock_server import MockServer
from mock_server.cli import main


@pytest.fixture(scope="module")
def served() -> MockServer:
    with MockServer() as mock:
        yield mock


@pytest.fixture(autouse=True)
def real_time(served: MockServer) -> None:
    served.freeze_clock(None)


def sign(capsys, environ: dict[str, str], *argv: str) -> tuple[int, str, str]:
    code = main(["sign", "--uri", "//Alice", *argv], environ=environ)
    out, err = capsys.readouterr()
    return code, out, err


def call(out: str) -> httpx.Response:
    """Send what `sign` printed: its headers to its curl line's URL."""
    head, _, curl = out.partition("\n\n")
    headers = dict(line.split(": ", 1) for line in head.splitlines())
    method, url = curl.split()[3:5]
    return httpx.request(method, url, headers=headers, timeout=30)


def test_the_port_variable_points_sign_at_the_mock(served: MockServer, capsys) -> None:
    port = served.url.rsplit(":", 1)[1]
    code, out, _ = sign(capsys, {"CHUTES_MOCK_PORT": port}, "GET", "/api_keys/")
    assert code == 0
    assert f"http://127.0.0.1:{port}/api_keys/" in out
    assert call(out).status_code == 200


def test_the_credentials_file_points_sign_at_the_mock(
    served: MockServer, capsys, tmp_path: Path
) -> None:
    written = tmp_path / "c.json"
    written.write_text(json.dumps({"url": served.url}))
    for environ, argv in [
        ({"CHUTES_MOCK_CREDENTIALS_FILE": str(written), "CHUTES_MOCK_PORT": "1"}, []),
        ({"CHUTES_MOCK_PORT": "1"}, ["--credentials-file", str(written)]),
    ]:
        code, out, _ = sign(capsys, environ, *argv, "GET", "/api_keys/")
        assert code == 0
        assert call(out).status_code == 200


def test_base_url_variable_then_flag_win(served: MockServer, capsys, tmp_path: Path) -> None:
    written = tmp_path / "c.json"
    written.write_text(json.dumps({"url": "http://127.0.0.1:1"}))
    environ = {"CHUTES_BASE_URL": served.url, "CHUTES_MOCK_CREDENTIALS_FILE": str(written)}
    _, out, _ = sign(capsys, environ, "GET", "/api_keys/")
    assert f"{served.url}/api_keys/" in out
    _, out, _ = sign(capsys, environ, "--base-url", "http://example.test", "GET", "/api_keys/")
    assert "http://example.test/api_keys/" in out


def test_an_unreadable_credentials_file_is_a_clear_error(capsys, tmp_path: Path) -> None:
    code, out, err = sign(
        capsys, {}, "--credentials-file", str(tmp_path / "none.json"), "GET", "/api_keys/"
    )
    assert (code, out) == (2, "")
    assert "cannot read the URL from credentials file" in err and "Traceback" not in err


@pytest.mark.parametrize("move", ["advance", "freeze"])
def test_nonce_server_follows_the_mocks_clock(served: MockServer, capsys, move: str) -> None:
    if move == "advance":
        served.advance_clock(3600)
    else:
        served.freeze_clock(1_800_000_000)
    code, out, _ = sign(capsys, {"CHUTES_BASE_URL": served.url}, "GET", "/api_keys/")
    assert call(out).status_code == 401  # this machine's time is an hour off the mock's
    code, out, _ = sign(
        capsys, {"CHUTES_BASE_URL": served.url}, "--nonce", "server", "GET", "/api_keys/"
    )
    assert code == 0
    assert f"X-Chutes-Nonce: {int(served.now())}" in out
    assert call(out).status_code == 200


def test_nonce_server_without_a_control_api_says_why(capsys) -> None:
    with MockServer() as other:
        url = other.url
    code, out, err = sign(capsys, {"CHUTES_BASE_URL": url}, "--nonce", "server", "GET", "/")
    assert (code, out) == (2, "")
    assert err.startswith("chutes-mock: error: --nonce server: cannot read ")
