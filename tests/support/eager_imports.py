"""Import, before the first test, each module pytest would rewrite on a later import.

pytest rewrites the asserts of every module of a package that provides a
pytest plugin (here schemathesis, hypothesis, xdist, anyio and the kit's own
`mock_server`) when that module is first imported. Many are imported lazily,
in the middle of a run: when the schema is loaded, when a check first runs,
when the first in-process request starts an event loop. Building a module's
AST there, deep in Hypothesis' stack, fails now and then on CPython 3.11
releases such as 3.11.7 with `SystemError: AST constructor recursion depth
mismatch` (CPython gh-106905): an error out of nowhere in whatever test was
running. So the plugin imports them all at configure time, on a shallow
stack, once per process (about a second; pytest caches the rewritten code).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import warnings

PACKAGES = ("schemathesis", "hypothesis", "xdist", "anyio", "mock_server")
# Never imported by the suites (optional extras, a program's entry point).
SKIPPED = (".__main__", "hypothesis.extra", "anyio._backends._trio")


def marked_for_rewrite() -> tuple[str, ...]:
    """The packages above that pytest marked for rewriting in this process."""
    hook = next((h for h in sys.meta_path if type(h).__name__ == "AssertionRewritingHook"), None)
    marked = getattr(hook, "_must_rewrite", None)
    if marked is None:  # another pytest: import them all the same
        return PACKAGES
    return tuple(name for name in PACKAGES if name in marked)


def import_all(packages: tuple[str, ...] = PACKAGES) -> list[str]:
    """Import every submodule of `packages`; the names that failed (an
    optional dependency missing), for the curious."""
    failed: list[str] = []
    with warnings.catch_warnings():
        # Hypothesis warns that a plugin building strategies at start-up is slow;
        # that is the point here (it is paid once, before the first test).
        warnings.simplefilter("ignore")
        for top in packages:
            failed += _import_package(top)
    return failed


def _import_package(top: str) -> list[str]:
    """Import every submodule of the package `top`; the names that failed."""
    try:
        package = importlib.import_module(top)
    except ImportError:
        return []
    failed = []
    for info in pkgutil.walk_packages(package.__path__, f"{top}.", onerror=lambda _: None):
        if info.name in sys.modules or any(part in info.name for part in SKIPPED):
            continue
        try:
            importlib.import_module(info.name)
        except Exception:  # an optional extra whose dependency is absent
            failed.append(info.name)
    return failed
