"""Sum JUnit XML reports into a few words: `212 passed, 3 skipped`.

Usage: python scripts/junit_counts.py REPORT.xml [...]   (for scripts/test.sh)
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET


def counts(paths: list[str]) -> str:
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for path in paths:
        for suite in ET.parse(path).getroot().iter("testsuite"):
            for name in totals:
                totals[name] += int(suite.get(name, 0))
    failed = totals["failures"] + totals["errors"]
    passed = totals["tests"] - failed - totals["skipped"]
    words = [f"{passed} passed"]
    words += [f"{failed} failed"] if failed else []
    words += [f"{totals['skipped']} skipped"] if totals["skipped"] else []
    return ", ".join(words)


if __name__ == "__main__":
    print(counts(sys.argv[1:]))
