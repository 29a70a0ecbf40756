"""A spec-driven mock of the Chutes authentication API.

`from mock_server import MockServer` runs it in a background thread, for a
client's own tests (see `mock_server.server`).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mock_server.server import MockControlError, MockKey, MockServer, MockUser

try:
    __version__ = version("chutes-auth-kit")
except PackageNotFoundError:  # run from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["MockControlError", "MockKey", "MockServer", "MockUser", "__version__"]


def __getattr__(name: str) -> Any:
    """`MockServer` and its types on first use: `import mock_server` stays
    light for the CLI and the pytest plugin."""
    if name in __all__ and name != "__version__":
        from mock_server import server

        return getattr(server, name)
    raise AttributeError(f"module 'mock_server' has no attribute {name!r}")
