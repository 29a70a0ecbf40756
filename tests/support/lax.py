"""D10: how production reads a value the contract's strict types refuse.

Production's validation is pydantic's lax mode. The recogniser
(`recognisers`) and the model (`tests/property/model.py`) both read values
with these, so the suites hold one reading; `test_lax.py` pins it to
answers measured on production's code and checks the mock's reading
(`mock_server.quirks.coercion`) against it.
"""

from __future__ import annotations

import re
from typing import Any

# Whitespace around, a sign, digits grouped by single underscores, and a
# fraction of zeros: `1_0`, ` 1.00 `, `1_0.0` pass; `1.`, `1__0`, `1.5` do not.
_INT = re.compile(r"\s*[+-]?[0-9](?:_?[0-9])*(?:\.0+)?\s*")
_BOOLS = {"1": True, "on": True, "t": True, "true": True, "y": True, "yes": True}
_BOOLS |= {"0": False, "off": False, "f": False, "false": False, "n": False, "no": False}


def lax_int(raw: str) -> int | None:
    """The integer production reads from the text `raw`; None: it refuses it."""
    if not _INT.fullmatch(raw):
        return None
    return int(raw.strip().split(".")[0].replace("_", ""))


def lax_bool(value: Any) -> bool | None:
    """The boolean production reads from a JSON value ('yes', 'OFF', 1, 0.0;
    text is not stripped); None: it refuses it."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _BOOLS.get(value.lower())
    if type(value) in (int, float) and value in (0, 1):
        return bool(value)
    return None
