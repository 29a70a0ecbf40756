"""What a handler gets and gives: the `Context` of one request, and its
`Result`. Shared by the contract's handlers (`routes`), the control API's
(`control`) and the pipeline that calls them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mock_server.auth import Caller
from mock_server.quirks import formats
from mock_server.state import MockState

Result = tuple[Any, dict[str, str]]  # (payload, response headers)


@dataclass(slots=True)
class Context:
    """One authenticated, validated request, over the mock's state."""

    state: MockState
    caller: Caller | None
    params: dict[str, Any]
    body: Any

    @property
    def user_id(self) -> str:
        assert self.caller is not None and self.caller.user is not None
        return self.caller.user.user_id

    @property
    def naive_dates(self) -> bool:
        return formats.naive_dates(self.state.settings.quirks)
