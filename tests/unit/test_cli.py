"""`chutes-mock` (mock_server.cli.main): sign, client-config, serve and the
CLI's manners. No test but the last starts a server: uvicorn is replaced by
a tripwire, or by a recorder of the sockets it would serve."""

from __future__ import annotations

import configparser
import json
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import uvicorn

from mock_server import __version__
from mock_server.cli import main
from tests.unit.harness import ALICE, BOB, NOW, Mock

CLI = [sys.executable, "-m", "mock_server"]


@pytest.fixture(autouse=True)
def no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    def tripwire(*args, **kwargs):
        raise AssertionError("a test tried to start a server")

    monkeypatch.setattr(uvicorn, "run", tripwire)
    monkeypatch.setattr(uvicorn.Server, "run", tripwire)


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[tuple[socket.socket, int]]:
    """The sockets `serve` hands to uvicorn, with their ports (uvicorn returns at once)."""
    sockets: list[tuple[socket.socket, int]] = []

    def record(self, sockets_given=None) -> None:
        sockets.extend((sock, sock.getsockname()[1]) for sock in sockets_given or [])

    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: record(self, sockets))
    return sockets


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv), environ={})
    out, err = capsys.readouterr()
    return code, out, err


def signed_headers(out: str) -> dict[str, str]:
    head, _, curl = out.partition("\n\n")
    assert curl.startswith("curl -sS -X ")
    return dict(line.split(": ", 1) for line in head.splitlines())


def test_sign_list_authenticates(mock: Mock, capsys) -> None:
    code, out, _ = run(capsys, "sign", "--uri", "//Alice", "--nonce", str(NOW), "GET", "/api_keys/")
    assert code == 0
    headers = signed_headers(out)
    assert set(headers) == {"X-Chutes-Hotkey", "X-Chutes-Nonce", "X-Chutes-Signature"}
    assert headers["X-Chutes-Hotkey"] == ALICE.ss58_address
    assert mock.request("GET", "/api_keys/", headers=headers).status_code == 200


def test_sign_default_nonce_is_now(mock: Mock, capsys) -> None:
    mock.state.clock.set(None)  # the CLI signs with this machine's time
    _, out, _ = run(capsys, "sign", "--uri", "//Alice", "GET", "/api_keys/")
    assert mock.request("GET", "/api_keys/", headers=signed_headers(out)).status_code == 200


def test_sign_get_key_path_template(mock: Mock, capsys) -> None:
    key_id = mock.created(ALICE, "cli")["api_key_id"]
    _, out, _ = run(
        capsys, "sign", "--uri", "//Alice", "--nonce", str(NOW), "DELETE", f"/api_keys/{key_id}"
    )
    response = mock.request("DELETE", f"/api_keys/{key_id}", headers=signed_headers(out))
    assert response.status_code == 200


def test_sign_registry_with_a_seed(mock: Mock, capsys) -> None:
    seed = "e5be9a5092b81bca64be81d212e7f2f9eba183bb7a90954f7b76361f6edb5c0a"
    _, out, _ = run(
        capsys, "sign", "--seed-hex", seed, "--nonce", str(NOW), "GET", "/registry/auth"
    )
    response = mock.request("GET", "/registry/auth", headers=signed_headers(out))
    assert (response.status_code, response.json()) == (200, {"authenticated": True})


def test_sign_post_with_data(mock: Mock, capsys) -> None:
    data = '{"name": "from-cli", "admin": true}'
    code, out, _ = run(
        capsys,
        "sign",
        "--uri",
        "//Alice",
        "--nonce",
        str(NOW),
        "--data",
        data,
        "POST",
        "/api_keys/",
    )
    assert code == 0
    assert "--data-raw" in out and "Content-Type: application/json" in out
    response = mock.request(
        "POST",
        "/api_keys/",
        content=data.encode(),
        headers={**signed_headers(out), "Content-Type": "application/json"},
    )
    assert (response.status_code, response.json()["name"]) == (200, "from-cli")


def test_sign_explicit_purpose(mock: Mock, capsys) -> None:
    _, out, _ = run(
        capsys,
        "sign",
        "--uri",
        "//Bob",
        "--purpose",
        "api_keys",
        "--nonce",
        str(NOW),
        "GET",
        "/api_keys/",
    )
    headers = signed_headers(out)
    assert headers["X-Chutes-Hotkey"] == BOB.ss58_address
    assert mock.request("GET", "/api_keys/", headers=headers).status_code == 200


def test_sign_unknown_operation_is_a_clear_error(capsys) -> None:
    code, out, err = run(capsys, "sign", "--uri", "//Alice", "GET", "/nope")
    assert code == 2 and out == ""
    assert err == "chutes-mock: error: GET /nope is not an operation of the contract\n"


def test_client_config_for_alice(capsys) -> None:
    code, out, _ = run(
        capsys, "client-config", "--user", "alice", "--base-url", "http://127.0.0.1:9999/"
    )
    assert code == 0
    config = configparser.ConfigParser()
    config.read_string(out)
    assert dict(config["api"]) == {"base_url": "http://127.0.0.1:9999"}
    assert dict(config["auth"]) == {
        "username": "alice",
        "user_id": "a11ce000-0000-4000-8000-000000000001",
        "hotkey_seed": "e5be9a5092b81bca64be81d212e7f2f9eba183bb7a90954f7b76361f6edb5c0a",
        "hotkey_name": "default",
        "hotkey_ss58address": ALICE.ss58_address,
    }


def test_client_config_for_bob_has_his_seed(capsys) -> None:
    _, out, _ = run(capsys, "client-config", "--user", "bob")
    assert "hotkey_seed = 398f0c28f98885e046333d4a41c19cee4c37368a9832c6502f6cfd182e2aef89\n" in out


def test_client_config_unknown_user(capsys) -> None:
    code, out, err = run(capsys, "client-config", "--user", "mallory")
    assert code == 2 and out == ""
    assert err == "chutes-mock: error: no user 'mallory' in the fixtures (users: alice, bob)\n"


def test_serve_on_a_public_host_without_token_exits_2(capsys) -> None:
    code, out, err = run(capsys, "serve", "--host", "0.0.0.0")
    assert code == 2 and out == ""
    assert err.startswith("chutes-mock: error: refusing to serve the control API on non-loopback")
    assert "--control-token" in err and "--no-control" in err


def test_serve_refusal_also_from_the_environment(capsys) -> None:
    code = main(["serve"], environ={"CHUTES_MOCK_HOST": "0.0.0.0"})
    assert code == 2
    assert "non-loopback host '0.0.0.0'" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["D15", "prod", "D1,,X"])
def test_bad_quirks_value(capsys, value: str) -> None:
    code, out, err = run(capsys, "serve", "--quirks", value)
    assert code == 2 and out == ""
    assert err.startswith("chutes-mock: error: unknown quirk(s) ")
    assert "use 'production' or some of D1, D2" in err
    assert err.endswith("(given by --quirks or CHUTES_MOCK_QUIRKS)\n")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("users: [", "not valid YAML"),
        ("- just a list\n", "the top level must be a mapping with 'users'"),
        ("users:\n  - uri: //Alice\n", "users[0]: each user needs a 'username' string"),
        ("users:\n  - username: x\n    user_id: nope\n", "user_id 'nope' is not a UUID"),
    ],
)
def test_bad_fixtures_file(tmp_path: Path, capsys, content: str, message: str) -> None:
    path = tmp_path / "fixtures.yaml"
    path.write_text(content)
    for argv in (["client-config", "--user", "x"], ["serve", "--port", "1"]):
        code, _, err = run(capsys, *argv, "--fixtures", str(path))
        assert code == 2
        assert err.startswith(f"chutes-mock: error: {path}")
        assert message in err


SEED = "e5be9a5092b81bca64be81d212e7f2f9eba183bb7a90954f7b76361f6edb5c0a"


@pytest.mark.parametrize("seed", ["12" * 32, "0x" + SEED])
def test_an_unquoted_seed_is_refused_without_showing_it(tmp_path: Path, capsys, seed: str) -> None:
    """Reading: YAML reads an all-digit or 0x seed as an integer; the error says
    to quote it, and shows no form of the secret."""
    path = tmp_path / "fixtures.yaml"
    path.write_text(f"users:\n  - username: x\n    seed: {seed}\n")
    code, out, err = run(capsys, "client-config", "--user", "x", "--fixtures", str(path))
    assert (code, out) == (2, "")
    expected = f"{path}: users[0]: 'seed' must be a string, YAML read a int: quote it"
    assert err == f"chutes-mock: error: {expected}\n"


def test_a_mnemonic_uri_is_not_echoed(tmp_path: Path, capsys) -> None:
    phrase = "bottom drive obey lake curtain smoke basket hold race lonely fit walk"
    path = tmp_path / "fixtures.yaml"
    path.write_text(f"users:\n  - username: x\n    uri: '{phrase}//hard/'\n")
    code, _, err = run(capsys, "client-config", "--user", "x", "--fixtures", str(path))
    assert code == 2
    assert "neither a dev URI such as //Alice nor a mnemonic" in err
    assert "bottom" not in err


def test_missing_fixtures_file(tmp_path: Path, capsys) -> None:
    code, _, err = run(
        capsys, "client-config", "--user", "x", "--fixtures", str(tmp_path / "no.yaml")
    )
    assert code == 2
    assert "cannot read" in err


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CHUTES_MOCK_PORT", "80a", "argument --port: '80a' is not an integer"),
        ("CHUTES_MOCK_NETUID", "x", "argument --netuid: 'x' is not an integer"),
        ("CHUTES_MOCK_SEED", "1.5", "argument --seed: '1.5' is not an integer"),
        ("CHUTES_MOCK_LOG_LEVEL", "loud", "CHUTES_MOCK_LOG_LEVEL: invalid choice: 'loud'"),
    ],
)
def test_a_bad_environment_value_is_a_usage_error(
    capsys, variable: str, value: str, message: str
) -> None:
    """Reading: a variable is checked like its flag: exit 2 naming it, no traceback."""
    with pytest.raises(SystemExit) as exited:
        main(["serve"], environ={variable: value})
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert message in err and variable in err and "Traceback" not in err


@pytest.mark.parametrize(
    "command",
    [["client-config", "--user", "alice"], ["sign", "--uri", "//Alice", "GET", "/api_keys/"]],
)
def test_a_bad_port_variable_stops_the_commands_that_point_at_it(capsys, command) -> None:
    """Reading: client-config and sign aim at CHUTES_MOCK_PORT; a config with a
    broken base_url would be written silently, so it is a usage error."""
    with pytest.raises(SystemExit) as exited:
        main(command, environ={"CHUTES_MOCK_PORT": "80a"})
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert (
        "CHUTES_MOCK_PORT '80a' is not a port from 0 to 65535 (fix it, or give --base-url)" in err
    )
    assert (
        main(
            [*command[:1], "--base-url", "http://h:1", *command[1:]],
            environ={"CHUTES_MOCK_PORT": "80a"},
        )
        == 0
    )


@pytest.mark.parametrize("port", ["70000", "-1"])
def test_a_port_out_of_range_is_a_usage_error(capsys, port: str) -> None:
    """Reading: uvicorn would bind 70000 modulo 65536 and print 70000."""
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--port", port], environ={})
    assert exited.value.code == 2
    assert f"argument --port: '{port}' is not an integer from 0 to 65535" in capsys.readouterr().err


def test_an_empty_variable_counts_as_unset(capsys) -> None:
    code = main(["client-config", "--user", "alice"], environ={"CHUTES_MOCK_PORT": ""})
    assert code == 0
    assert "base_url = http://127.0.0.1:8000\n" in capsys.readouterr().out


def test_client_config_follows_the_port_variable(capsys) -> None:
    code = main(["client-config", "--user", "alice"], environ={"CHUTES_MOCK_PORT": "9001"})
    assert code == 0
    assert "base_url = http://127.0.0.1:9001\n" in capsys.readouterr().out


def test_client_config_user_id_is_the_one_the_server_gives(tmp_path: Path, capsys) -> None:
    """Reading: a fixture user without `user_id` gets the same id in the config
    as on the server, whatever the server's seed."""
    from mock_server.app import create_app
    from mock_server.settings import Settings

    path = tmp_path / "fixtures.yaml"
    path.write_text("users:\n  - username: carol\n    seed: " + "0a" * 32 + "\n")
    code, out, _ = run(capsys, "client-config", "--user", "carol", "--fixtures", str(path))
    assert code == 0
    config = configparser.ConfigParser()
    config.read_string(out)
    for seed in (None, 7):
        store = create_app(Settings(fixtures=path, seed=seed)).state.mock.store
        [carol] = [u for u in store.users() if u.username == "carol"]
        assert config["auth"]["user_id"] == carol.user_id


# The CLI's manners ----------------------------------------------------------------
def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"], environ={})
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"chutes-mock {__version__}\n"


def test_no_arguments_shows_the_help(capsys) -> None:
    code, out, err = run(capsys)
    assert (code, err) == (0, "")
    assert out.startswith("usage: chutes-mock")
    assert all(command in out for command in ("serve", "sign", "client-config"))


def test_serve_help_shows_every_default(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"], environ={"CHUTES_MOCK_CONTROL_TOKEN": "hidden-token-value"})
    out = capsys.readouterr().out
    for default in (
        "default: 127.0.0.1",
        "default: 8000",
        "default: the embedded alice and bob",
        "default: 64",
        "default: chutes-mock-registry",
        "default: none; env CHUTES_MOCK_QUIRKS",
        "default: info",
        "default: on",
        "default: none; env CHUTES_MOCK_CONTROL_TOKEN",
        "default: random",
        "default: 1000",
        "default: none; env CHUTES_MOCK_CREDENTIALS_FILE",
    ):
        assert default in " ".join(out.split()), default
    assert "hidden-token-value" not in out  # the environment's value may be a secret


def test_sign_into_a_closed_pipe_exits_quietly() -> None:
    """Reading: `sign ... | head -1`; the reader is gone before the first
    write, so the write always meets a broken pipe."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [*CLI, "sign", "--uri", "//Alice", "GET", "/api_keys/"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (0, b"")


# serve: bind first, then the banner --------------------------------------------------
def test_a_busy_port_fails_before_the_banner(capsys, tmp_path: Path) -> None:
    credentials = tmp_path / "credentials.json"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, out, err = run(
            capsys, "serve", "--port", str(port), "--credentials-file", str(credentials)
        )
    assert (code, out) == (1, "")
    assert not credentials.exists()
    assert err.startswith(f"chutes-mock: error: cannot listen on 127.0.0.1:{port}: ")


def test_port_zero_shows_the_bound_port(capsys, monkeypatch, tmp_path: Path) -> None:
    credentials = tmp_path / "credentials.json"
    credentials.write_text("a previous run's")
    while_serving = []

    def serving(self, sockets=None) -> None:
        [sock] = sockets
        mode = stat.S_IMODE(credentials.stat().st_mode)
        while_serving.append((sock, sock.getsockname()[1], credentials.read_text(), mode))

    monkeypatch.setattr(uvicorn.Server, "run", serving)
    code, out, _ = run(capsys, "serve", "--port", "0", "--credentials-file", str(credentials))
    assert code == 0
    [(sock, port, text, mode)] = while_serving
    url = f"http://127.0.0.1:{port}"
    assert out.splitlines()[0] == f"chutes-mock on {url}"
    assert port != 0
    written = json.loads(text)
    assert written["url"] == url
    assert mode == 0o600
    assert not credentials.exists()  # removed when the server stops
    [alice, bob] = written["users"]
    assert (alice["username"], alice["registered"], bob["registered"]) == ("alice", True, False)
    assert alice["api_key"] in out and alice["api_key"].startswith("cpk_")
    assert sock.fileno() == -1  # closed once uvicorn returned


def test_journal_size_from_flag_and_variable(capsys, served, monkeypatch) -> None:
    from mock_server import app as app_module

    sizes = []
    real = app_module.create_app
    monkeypatch.setattr(
        app_module,
        "create_app",
        lambda settings: sizes.append(settings.journal_size) or real(settings),
    )
    main(["serve", "--port", "0", "--journal-size", "5"], environ={})
    main(["serve", "--port", "0"], environ={"CHUTES_MOCK_JOURNAL_SIZE": "7"})
    main(["serve", "--port", "0"], environ={})
    assert sizes == [5, 7, 1000]
    with pytest.raises(SystemExit):
        main(["serve"], environ={"CHUTES_MOCK_JOURNAL_SIZE": "-1"})
    assert "CHUTES_MOCK_JOURNAL_SIZE" in capsys.readouterr().err


def test_timeouts_from_flags_and_variables(capsys, served, monkeypatch) -> None:
    from mock_server import app as app_module

    seen = []
    real = app_module.create_app

    def record(settings):
        seen.append((settings.read_timeout, settings.keep_alive_timeout, settings.shutdown_timeout))
        return real(settings)

    monkeypatch.setattr(app_module, "create_app", record)
    main(["serve", "--port", "0", "--read-timeout", "2.5", "--shutdown-timeout", "1"], environ={})
    main(["serve", "--port", "0"], environ={"CHUTES_MOCK_KEEP_ALIVE_TIMEOUT": "9"})
    main(["serve", "--port", "0"], environ={})
    assert seen == [(2.5, 5.0, 1.0), (30.0, 9.0, 3.0), (30.0, 5.0, 3.0)]
    for bad in ("0", "-1", "soon", "3601"):
        with pytest.raises(SystemExit):
            main(["serve", "--read-timeout", bad], environ={})
        assert "is not a number of seconds" in capsys.readouterr().err


def test_serve_for_real_writes_credentials_that_work(tmp_path: Path) -> None:
    """Reading: a script starts the mock on a free port and reads the file,
    without parsing the banner."""
    credentials = tmp_path / "credentials.json"
    command = [*CLI, "serve", "--port", "0", "--log-level", "warning"]
    with subprocess.Popen(
        [*command, "--credentials-file", str(credentials)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) as process:
        try:
            for _ in range(600):  # the file appears once the port is bound
                if credentials.exists() or process.poll() is not None:
                    break
                time.sleep(0.05)
            written = json.loads(credentials.read_text())
            alice = written["users"][0]
            response = httpx.get(
                f"{written['url']}/api_keys/",
                headers={"Authorization": f"Bearer {alice['jwt']}"},
                timeout=30,
            )
            assert response.status_code == 200
        finally:
            process.terminate()
            process.wait(timeout=30)


def test_a_planted_partial_is_refused(capsys, served, tmp_path: Path) -> None:
    credentials = tmp_path / "c.json"
    planted = tmp_path / "c.json.partial"
    planted.write_text("planted")
    planted.chmod(0o644)
    code, out, err = run(capsys, "serve", "--port", "0", "--credentials-file", str(credentials))
    assert code == 2 and out == "" and served == []
    assert "c.json.partial' exists (left by a crashed run, or planted)" in err
    assert not credentials.exists() and planted.read_text() == "planted"


@pytest.mark.parametrize("link", ["c.json.partial", "c.json"])
def test_no_write_through_a_symlink(capsys, served, tmp_path: Path, link: str) -> None:
    target = tmp_path / "elsewhere.txt"
    target.write_text("untouched")
    (tmp_path / link).symlink_to(target)
    code, out, err = run(
        capsys, "serve", "--port", "0", "--credentials-file", str(tmp_path / "c.json")
    )
    assert code == 2 and out == "" and served == []
    assert "symlink" in err or "exists" in err
    assert target.read_text() == "untouched"


def test_the_file_is_private_whatever_the_umask(capsys, monkeypatch, tmp_path: Path) -> None:
    credentials = tmp_path / "c.json"
    modes = []

    def record(self, sockets=None) -> None:
        modes.append(stat.S_IMODE(credentials.stat().st_mode))

    monkeypatch.setattr(uvicorn.Server, "run", record)
    old = os.umask(0)
    try:
        code, _, _ = run(capsys, "serve", "--port", "0", "--credentials-file", str(credentials))
    finally:
        os.umask(old)
    assert code == 0 and modes == [0o600]
    assert not (tmp_path / "c.json.partial").exists()
