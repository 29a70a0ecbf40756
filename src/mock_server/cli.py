"""`chutes-mock`: serve the mock, sign a request, or write a client config.

`serve` binds its port first, then prints the banner with the bound port
(and writes `--credentials-file`), then serves: a busy port fails before
any credential is shown.

Settings come from flags, then `CHUTES_MOCK_*` environment variables, then
defaults; this module is the only reader of the environment.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shlex
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from mock_server import __version__, hotkeys, signing, spec
from mock_server.faults import read_rules
from mock_server.fixtures import FixtureError, load_fixture
from mock_server.journal import DEFAULT_SIZE
from mock_server.quirks import parse_quirks
from mock_server.settings import DEFAULT_FIXTURES, Settings

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
MAX_JOURNAL_SIZE = 100_000  # an entry is 1.4 KB at most: about 140 MB at the most


def _env(environ: Mapping[str, str], name: str, default: str | None = None) -> str | None:
    """`CHUTES_MOCK_<name>`; set but empty counts as unset."""
    return environ.get(f"CHUTES_MOCK_{name}") or default


def _integer(
    variable: str, low: int | None = None, high: int | None = None
) -> Callable[[str], int]:
    """argparse type: an integer in [low, high], from the flag or from `variable`."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            number = None
        if (
            number is None
            or (low is not None and number < low)
            or (high is not None and number > high)
        ):
            bounds = f" from {low} to {high}" if low is not None else ""
            raise argparse.ArgumentTypeError(
                f"{value!r} is not an integer{bounds} (given by the flag or {variable})"
            )
        return number

    return parse


_port = _integer("CHUTES_MOCK_PORT", 0, 65535)
MAX_TIMEOUT = 3600.0


def _latency(value: str) -> float:
    """argparse type: milliseconds from 0 to 60,000."""
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is None or not 0 <= number <= 60_000:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not milliseconds from 0 to 60000 (given by the flag or"
            " CHUTES_MOCK_LATENCY)"
        )
    return number


def _seconds(variable: str) -> Callable[[str], float]:
    """argparse type: seconds, more than 0 and at most an hour."""

    def parse(value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            number = None
        if number is None or not 0 < number <= MAX_TIMEOUT:
            raise argparse.ArgumentTypeError(
                f"{value!r} is not a number of seconds above 0 and at most {MAX_TIMEOUT:g}"
                f" (given by the flag or {variable})"
            )
        return number

    return parse


def _local_url(environ: Mapping[str, str]) -> str:
    """The mock on this machine, at CHUTES_MOCK_PORT (a usage error if bad)."""
    return f"http://127.0.0.1:{_port(_env(environ, 'PORT', '8000'))}"


def build_parser(environ: Mapping[str, str]) -> argparse.ArgumentParser:
    """The CLI; a default from the environment is a string that argparse
    converts and checks like a flag's value (so a bad one is a usage error)."""
    parser = argparse.ArgumentParser(
        prog="chutes-mock", description="A spec-driven mock of the Chutes authentication API."
    )
    parser.add_argument("--version", action="version", version=f"chutes-mock {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    # Each help names the built-in default, never the environment's value (it may be a secret).
    serve = commands.add_parser(
        "serve",
        help="serve the mock (default: 127.0.0.1:8000)",
        description="Serve the mock. A flag wins over its CHUTES_MOCK_* variable, the variable"
        " over the default.",
    )
    serve.add_argument(
        "--host",
        default=_env(environ, "HOST", "127.0.0.1"),
        help="address to bind (default: 127.0.0.1; env CHUTES_MOCK_HOST)",
    )
    serve.add_argument(
        "--port",
        type=_port,
        default=_env(environ, "PORT", "8000"),
        help="port; 0 picks a free one (default: 8000; env CHUTES_MOCK_PORT)",
    )
    serve.add_argument(
        "--fixtures",
        type=Path,
        default=_env(environ, "FIXTURES"),
        help="YAML file of users, hotkeys, registrations and keys (default: the embedded alice"
        " and bob; env CHUTES_MOCK_FIXTURES)",
    )
    serve.add_argument(
        "--netuid",
        type=_integer("CHUTES_MOCK_NETUID"),
        default=_env(environ, "NETUID", "64"),
        help="subnet whose metagraph /registry/auth checks (default: 64; env CHUTES_MOCK_NETUID)",
    )
    serve.add_argument(
        "--registry-password",
        default=_env(environ, "REGISTRY_PASSWORD", "chutes-mock-registry"),
        help="password in the registry's Authorization header (default: chutes-mock-registry;"
        " env CHUTES_MOCK_REGISTRY_PASSWORD)",
    )
    serve.add_argument(
        "--quirks",
        default=_env(environ, "QUIRKS"),
        help="'production' (all of D1-D14) or a list such as D3,D8: behave like production "
        "where it has a known defect (default: none; env CHUTES_MOCK_QUIRKS)",
    )
    serve.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        default=_env(environ, "LOG_LEVEL", "info"),
        help="default: info; env CHUTES_MOCK_LOG_LEVEL",
    )
    serve.add_argument(
        "--no-control",
        action="store_true",
        help="turn off the /_mock/ control API (default: on)",
    )
    serve.add_argument(
        "--control-token",
        default=_env(environ, "CONTROL_TOKEN"),
        help="require X-Mock-Control-Token on every /_mock/ call (default: none;"
        " env CHUTES_MOCK_CONTROL_TOKEN)",
    )
    serve.add_argument(
        "--seed",
        type=_integer("CHUTES_MOCK_SEED"),
        default=_env(environ, "SEED"),
        help="seed ids and secrets, for reproducible runs (default: random; env CHUTES_MOCK_SEED)",
    )
    serve.add_argument(
        "--journal-size",
        type=_integer("CHUTES_MOCK_JOURNAL_SIZE", 0, MAX_JOURNAL_SIZE),
        default=_env(environ, "JOURNAL_SIZE", str(DEFAULT_SIZE)),
        help=f"requests GET /_mock/requests keeps; 0 turns the journal off (default:"
        f" {DEFAULT_SIZE}; env CHUTES_MOCK_JOURNAL_SIZE)",
    )
    serve.add_argument(
        "--latency",
        type=_latency,
        default=_env(environ, "LATENCY"),
        metavar="MS",
        help="wait MS milliseconds before every answer to the API (a fault rule; default:"
        " none; env CHUTES_MOCK_LATENCY)",
    )
    serve.add_argument(
        "--faults",
        default=_env(environ, "FAULTS"),
        metavar="FILE",
        help="fault rules in force from the start, YAML or JSON, as POST /_mock/faults takes"
        " them (default: none; env CHUTES_MOCK_FAULTS)",
    )
    serve.add_argument(
        "--read-timeout",
        type=_seconds("CHUTES_MOCK_READ_TIMEOUT"),
        default=_env(environ, "READ_TIMEOUT", "30"),
        metavar="S",
        help="seconds to read a whole request from its first byte (or a new connection's"
        " first request), then the connection is closed (default: 30;"
        " env CHUTES_MOCK_READ_TIMEOUT)",
    )
    serve.add_argument(
        "--keep-alive-timeout",
        type=_seconds("CHUTES_MOCK_KEEP_ALIVE_TIMEOUT"),
        default=_env(environ, "KEEP_ALIVE_TIMEOUT", "5"),
        metavar="S",
        help="seconds an idle connection stays open between requests (default: 5;"
        " env CHUTES_MOCK_KEEP_ALIVE_TIMEOUT)",
    )
    serve.add_argument(
        "--shutdown-timeout",
        type=_seconds("CHUTES_MOCK_SHUTDOWN_TIMEOUT"),
        default=_env(environ, "SHUTDOWN_TIMEOUT", "3"),
        metavar="S",
        help="seconds a stop waits for answers in flight; a request still being read is cut"
        " off at once (default: 3; env CHUTES_MOCK_SHUTDOWN_TIMEOUT)",
    )
    serve.add_argument(
        "--credentials-file",
        type=Path,
        default=_env(environ, "CREDENTIALS_FILE"),
        metavar="PATH",
        help="once the port is bound, write the URL and each user's key and JWT there as JSON,"
        " readable by the owner only; removed on exit (default: none;"
        " env CHUTES_MOCK_CREDENTIALS_FILE)",
    )

    sign = commands.add_parser("sign", help="print signed headers and a curl command")
    who = sign.add_mutually_exclusive_group(required=True)
    who.add_argument("--uri", help="substrate dev URI, e.g. //Alice")
    who.add_argument("--seed-hex", dest="seed_hex", help="64-hex hotkey seed")
    what = sign.add_mutually_exclusive_group()
    what.add_argument("--purpose", help="signature purpose (default: from the spec)")
    what.add_argument("--data", help="JSON body to send; the signature covers its sha256")
    sign.add_argument(
        "--nonce",
        help="nonce to use; 'server' reads the mock's clock (GET /_mock/clock, with"
        " CHUTES_MOCK_CONTROL_TOKEN if set), so a frozen or moved clock just works"
        " (default: this machine's time)",
    )
    sign.add_argument(
        "--base-url",
        help="default: CHUTES_BASE_URL, else the URL in --credentials-file, else 127.0.0.1 on"
        " CHUTES_MOCK_PORT or 8000",
    )
    sign.add_argument(
        "--credentials-file",
        type=Path,
        default=_env(environ, "CREDENTIALS_FILE"),
        metavar="PATH",
        help="the file `serve --credentials-file` writes: its URL is the default base URL"
        " (env CHUTES_MOCK_CREDENTIALS_FILE)",
    )
    sign.add_argument("method", metavar="METHOD")
    sign.add_argument("path", metavar="PATH")

    config = commands.add_parser("client-config", help="print a config.ini for the real chutes CLI")
    config.add_argument("--user", required=True, help="username in the fixtures, e.g. alice")
    config.add_argument(
        "--fixtures",
        type=Path,
        default=_env(environ, "FIXTURES"),
        help="the fixtures the server reads (env CHUTES_MOCK_FIXTURES)",
    )
    config.add_argument(
        "--base-url", help="default: CHUTES_BASE_URL, else 127.0.0.1 on CHUTES_MOCK_PORT or 8000"
    )
    return parser


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    parser = build_parser(environ)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if getattr(args, "log_level", "info") not in LOG_LEVELS:  # argparse checks flags only
        parser.error(
            f"CHUTES_MOCK_LOG_LEVEL: invalid choice: {args.log_level!r}"
            f" (choose from {', '.join(LOG_LEVELS)})"
        )
    try:
        if args.command == "serve":
            return serve(args)
        if args.base_url is None:
            args.base_url = default_base_url(args, environ, parser)
        if args.command == "sign":
            return emit(sign(args, environ) + "\n")
        return emit(client_config(args))
    except (FixtureError, ValueError) as exc:
        print(f"chutes-mock: error: {exc}", file=sys.stderr)
        return 2


def default_base_url(
    args: argparse.Namespace, environ: Mapping[str, str], parser: argparse.ArgumentParser
) -> str:
    """Where `sign` and `client-config` point without `--base-url`:
    CHUTES_BASE_URL, else the URL in the credentials file (sign), else the
    mock on this machine at CHUTES_MOCK_PORT."""
    if environ.get("CHUTES_BASE_URL"):
        return environ["CHUTES_BASE_URL"]
    written = getattr(args, "credentials_file", None)
    if written:
        try:
            url = json.loads(Path(written).read_text())["url"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "no 'url' in it"
            raise ValueError(
                f"cannot read the URL from credentials file {str(written)!r}: {reason}"
                " (is `chutes-mock serve --credentials-file` running?)"
            ) from None
        if not isinstance(url, str):
            raise ValueError(f"credentials file {str(written)!r}: 'url' is not a string")
        return url
    try:
        return _local_url(environ)
    except argparse.ArgumentTypeError:
        parser.error(
            f"CHUTES_MOCK_PORT {_env(environ, 'PORT')!r} is not a port from 0 to 65535"
            " (fix it, or give --base-url)"
        )


def emit(text: str) -> int:
    """Write `text` to stdout; a reader that stops early (`| head -1`) is no
    error: exit 0, without a traceback."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would flush again at exit and complain: point stdout at /dev/null.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return 0


# serve ----------------------------------------------------------------------
def settings_from(args: argparse.Namespace) -> Settings:
    try:
        quirks = parse_quirks(args.quirks)
    except ValueError as exc:
        raise ValueError(f"{exc} (given by --quirks or CHUTES_MOCK_QUIRKS)") from None
    rules = read_rules(args.faults) if args.faults else []
    if args.latency:
        rules.insert(0, {"latency_ms": args.latency})
    return Settings(
        fault_rules=tuple(rules),
        host=args.host,
        port=args.port,
        fixtures=args.fixtures or DEFAULT_FIXTURES,
        netuid=args.netuid,
        registry_password=args.registry_password,
        quirks=quirks,
        log_level=args.log_level,
        control=not args.no_control,
        control_token=args.control_token or None,
        seed=args.seed,
        journal_size=args.journal_size,
        read_timeout=args.read_timeout,
        keep_alive_timeout=args.keep_alive_timeout,
        shutdown_timeout=args.shutdown_timeout,
    )


def serve(args: argparse.Namespace) -> int:
    from mock_server.app import create_app
    from mock_server.connections import close_after_500
    from mock_server.guards import uvicorn_config
    from mock_server.server import bind_socket, credentials, socket_url
    from mock_server.signals import StoppableServer

    settings = settings_from(args)
    refusal = settings.unsafe_exposure()
    if refusal:
        print(f"chutes-mock: error: {refusal}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    written = args.credentials_file
    if written:
        check_credentials_path(written)  # before anything is shown or served
    app = create_app(settings)
    if written:  # a script waiting for the file must not read a previous run's
        written.unlink(missing_ok=True)
    # Bind first: a busy port fails here, before the banner shows live credentials.
    try:
        sock = bind_socket(settings.host, settings.port)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        print(
            f"chutes-mock: error: cannot listen on {settings.host}:{settings.port}: {reason}",
            file=sys.stderr,
        )
        return 1
    config = uvicorn_config(close_after_500(app), settings)
    server = StoppableServer(config)
    # From here a stop signal ends the server and this function normally, so
    # the credentials file is always removed.
    with sock, server.capture_signals():
        url = socket_url(sock)
        print(startup_banner(app.state.mock, url), flush=True)
        try:
            if written:
                write_private(written, credentials(app.state.mock, url))
            server.run(sockets=[sock])
        finally:
            if written:  # its keys and tokens die with this server
                written.unlink(missing_ok=True)
    logging.getLogger("mock_server").info(
        "chutes-mock stopped" + (f" ({server.stopped_by})" if server.stopped_by else "")
    )
    return 0


class UnsafeCredentialsPath(ValueError):
    """The credentials file cannot be written safely where asked."""


def partial_path(path: Path) -> Path:
    return path.with_name(path.name + ".partial")


def check_credentials_path(path: Path) -> None:
    """Refuse a path that would send live credentials somewhere else: a
    symlink at the file's place, or a `.partial` beside it that this run did
    not make (left by a crash, or planted)."""
    if path.is_symlink():
        raise UnsafeCredentialsPath(
            f"--credentials-file {str(path)!r} is a symlink: refusing to write keys through it"
        )
    partial = partial_path(path)
    if partial.exists() or partial.is_symlink():
        raise UnsafeCredentialsPath(
            f"{str(partial)!r} exists (left by a crashed run, or planted): remove it and start"
            " again"
        )
    if not path.parent.is_dir():
        raise UnsafeCredentialsPath(f"--credentials-file {str(path)!r}: no such directory")


def write_private(path: Path, payload: dict) -> None:
    """`payload` as JSON at `path`, readable by the owner only, in one step:
    written to a new `.partial` beside it (created, never opened if it
    exists or is a symlink, mode 0600), then renamed into place, so a
    reader never sees half a file and nothing is written through a link."""
    check_credentials_path(path)
    partial = partial_path(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(partial, flags, 0o600)
    except FileExistsError:
        raise UnsafeCredentialsPath(
            f"{str(partial)!r} appeared while writing: refusing to use it"
        ) from None
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        with os.fdopen(fd, "w") as file:
            json.dump(payload, file, indent=2)
            file.write("\n")
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def startup_banner(state, url: str) -> str:
    """Who is there, with a key and a token each, ready to paste."""
    from mock_server.server import user_credentials

    settings = state.settings
    lines = [f"chutes-mock on {url}"]
    if settings.quirks:
        lines.append(f"quirks: {', '.join(sorted(settings.quirks, key=lambda q: int(q[1:])))}")
    lines.append(
        f"control API: {'/_mock/' if settings.control else 'off'}"
        + (" (X-Mock-Control-Token required)" if settings.control_token else "")
    )
    registered = set(state.store.metagraph().get(settings.netuid, []))
    for fixture_user in state.fixture.users:
        user = user_credentials(state, fixture_user.username)
        lines += [
            "",
            f"user      {user.username}",
            f"user_id   {user.user_id}",
            f"hotkey    {user.hotkey or '-'}"
            + (f"  (registered on netuid {settings.netuid})" if user.hotkey in registered else ""),
            f"dev URI   {user.uri or '-'}",
            f"API key   {user.api_key or '-'}",
            f"JWT       {user.jwt}",
        ]
    return "\n".join(lines)


# sign -----------------------------------------------------------------------
CLOCK_TIMEOUT = 10.0


def server_nonce(base_url: str, environ: Mapping[str, str]) -> str:
    """The mock's clock at `base_url` as a nonce (`GET /_mock/clock`)."""
    request = urllib.request.Request(f"{base_url.rstrip('/')}/_mock/clock")
    token = _env(environ, "CONTROL_TOKEN")
    if token:
        request.add_header("X-Mock-Control-Token", token)
    where = f"{base_url.rstrip('/')}/_mock/clock"
    try:
        with urllib.request.urlopen(request, timeout=CLOCK_TIMEOUT) as response:
            now = json.loads(response.read())["now"]
    except urllib.error.HTTPError as exc:
        hint = {
            401: ": set CHUTES_MOCK_CONTROL_TOKEN to the server's --control-token",
            404: ": is the control API on (no --no-control) and is this the mock?",
        }.get(exc.code, "")
        raise ValueError(f"--nonce server: {where} answered {exc.code}{hint}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ValueError(f"--nonce server: cannot read {where}: {reason}") from None
    except (ValueError, KeyError, TypeError):
        raise ValueError(f"--nonce server: {where} did not answer with a clock") from None
    if not isinstance(now, int | float) or isinstance(now, bool):
        raise ValueError(f"--nonce server: {where} did not answer with a clock")
    return str(int(now))


def sign(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> str:
    from mock_server.settings import DEFAULT_SPEC

    method = args.method.upper()
    keypair = hotkeys.keypair_from(uri=args.uri, seed=args.seed_hex)
    if args.nonce == "server":
        nonce = server_nonce(args.base_url, environ or {})
    else:
        nonce = args.nonce or str(int(time.time()))
    body = args.data.encode() if args.data is not None else b""
    purpose = args.purpose
    if purpose is None:
        operations = spec.operations(spec.load_document(DEFAULT_SPEC), spec.Document.AUTH)
        if args.data is not None and signing.operation_for(operations, method, args.path) is None:
            purpose = signing.body_purpose(body)  # a body outside the contract: sign its hash
        else:
            purpose = signing.contract_purpose(operations, method, args.path, body)
    headers = signing.signature_headers(keypair, nonce, purpose)
    curl = ["curl", "-sS", "-X", method, args.base_url.rstrip("/") + args.path]
    for name, value in headers.items():
        curl += ["-H", f"{name}: {value}"]
    if args.data is not None:
        curl += ["-H", "Content-Type: application/json", "--data-raw", args.data]
    lines = [f"{name}: {value}" for name, value in headers.items()]
    return "\n".join([*lines, "", shlex.join(curl)])


# client-config ----------------------------------------------------------------
def client_config(args: argparse.Namespace) -> str:
    fixture = load_fixture(args.fixtures or DEFAULT_FIXTURES, netuid=64, rng=random.Random(0))
    user = next((u for u in fixture.users if u.username == args.user), None)
    if user is None:
        names = ", ".join(u.username for u in fixture.users) or "none"
        raise ValueError(f"no user {args.user!r} in the fixtures (users: {names})")
    if not user.seed or not user.hotkey:
        raise ValueError(
            f"user {args.user!r} has no hotkey seed: give it 'seed:' (64 hex) or a dev URI "
            f"with a known seed ({', '.join(hotkeys.DEV_SEEDS)}) in the fixtures"
        )
    return (
        "[api]\n"
        f"base_url = {args.base_url.rstrip('/')}\n"
        "\n"
        "[auth]\n"
        f"username = {user.username}\n"
        f"user_id = {user.user_id}\n"
        f"hotkey_seed = {user.seed.removeprefix('0x')}\n"
        "hotkey_name = default\n"
        f"hotkey_ss58address = {user.hotkey}\n"
    )
