"""Compatibility shim: Schemathesis 4.32 `from_fixture` on pytest 9.2.

`schemathesis/pytest/lazy.py` reads and writes `request.node._nodeid`, which
pytest 9.2 replaced by `Node._id`. This restores the attribute as a property.
Imported from this directory's conftest before any test runs.

No public hook avoids it: `schemathesis.pytest.from_fixture` is Schemathesis'
own public way to bind a schema to a fixture (the target is known only at
test time), and it is that function which reads the private attribute.
Schemathesis 4.32.5, the newest release, still does. `install` does nothing
on a pytest that has the attribute, so the shim can go once either side
changes.
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
