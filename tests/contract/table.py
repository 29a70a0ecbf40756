"""The table of tests/README.md that names, for each rule checked by URL, its
test and the breakages it is shown to catch. Built from the rules
(`rules.RULES`) and the probes and breakages of `test_rule_teeth.py`
(`PROBES`, `CAUGHT`); `tests/unit/test_readme.py` checks the README holds it
as built. After changing any of them, rewrite it:

    .venv/bin/python -m tests.contract.table
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from tests.contract.rules import RULES
from tests.contract.test_rule_teeth import CAUGHT, PROBES, Caught

README = Path(__file__).resolve().parents[1] / "README.md"
BEGIN = "<!-- rules table: built by python -m tests.contract.table; do not edit -->"
END = "<!-- end of the rules table -->"
HEADER = (
    "| § | rule | test by URL | breakage shown caught (in-process and by URL) |\n|---|---|---|---|"
)


def _section_number(section: str) -> int:
    return int(section.lstrip("§"))


def _probe_row(probe) -> tuple[str, str, str]:
    """(section, text, test) from a probe's docstring, `§N: text`."""
    found = re.fullmatch(r"(§\d+): (.+)", " ".join((probe.__doc__ or "").split()))
    assert found, f"{probe.__name__}: its docstring must read '§N: the rule'"
    module = probe.__module__.rsplit(".", 1)[-1]
    return found[1], found[2].rstrip("."), f"`{module}.py::{probe.__name__}`"


def _breakage(caught: Caught) -> str:
    notes = []
    if caught.production:
        notes.append("in the production mock")
    if not caught.by_url:
        notes.append("in-process only")
    if caught.tags:
        notes.append(f"tagged `[{', '.join(caught.tags)}]`: it looks like {caught.tags[0]}")
    return f"`{caught.breakage}`" + (f" ({'; '.join(notes)})" if notes else "")


def rows() -> list[str]:
    """One row per rule checked by URL (the control API's are in-process only)."""
    found = [
        (rule.section, rule.text, f"`test_rule[{rule_id}]`", rule_id)
        for rule_id, rule in RULES.items()
        if not rule.control
    ]
    found += [(*_probe_row(probe), probe.__name__) for probe in PROBES]
    found.sort(key=lambda row: _section_number(row[0]))  # stable: rules in their order
    lines = []
    for section, text, test, check in found:
        caught = "; ".join(_breakage(c) for c in CAUGHT if c.check == check)
        lines.append(f"| {section} | {text} | {test} | {caught} |")
    return lines


def render() -> str:
    return "\n".join([BEGIN, HEADER, *rows(), END])


def current(readme: str) -> str:
    """The README's table as it stands, markers included."""
    start, end = readme.index(BEGIN), readme.index(END) + len(END)
    return readme[start:end]


def main() -> int:
    text = README.read_text(encoding="utf-8")
    built = render()
    if current(text) == built:
        print(f"{README}: the rules table is current")
        return 0
    README.write_text(text.replace(current(text), built), encoding="utf-8")
    print(f"{README}: the rules table rewritten ({len(rows())} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
