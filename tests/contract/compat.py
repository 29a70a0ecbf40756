"""Compatibility shim: Schemathesis 4.32 `from_fixture` on pytest 9.2.

`schemathesis/pytest/lazy.py` reads and writes `request.node._nodeid`, which
pytest 9.2 replaced by `Node._id`. This restores the attribute as a property.
Imported from this directory's conftest before any test runs.
"""

from __future__ import annotations

import _pytest.nodes


def install() -> None:
    """Give `Node` a `_nodeid` property when pytest no longer has one."""
    if hasattr(_pytest.nodes.Node, "_nodeid"):
        return
    from _pytest.nodeid import coerce_node_id  # pytest >= 9.2

    def _get(self: _pytest.nodes.Node) -> str:
        return self.nodeid

    def _set(self: _pytest.nodes.Node, value: str) -> None:
        self._id = coerce_node_id(value)

    _pytest.nodes.Node._nodeid = property(_get, _set)  # type: ignore[attr-defined]
