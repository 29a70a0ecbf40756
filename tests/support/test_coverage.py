"""The report's coverage part: requests by operation and way, and what was decided."""

from __future__ import annotations

from tests.support.coverage import OTHER, Coverage, auth_way, suite_of
from tests.support.routing import CREATE, LIST


def test_the_way_a_request_authenticates_is_read_as_the_api_reads_it():
    assert auth_way({"x-chutes-hotkey": "5Grw", "authorization": "Basic cpk_x"}) == "hotkey"
    assert auth_way({"authorization": "Basic cpk_x.y.z"}) == "API key"
    assert auth_way({"authorization": "Bearer cpk_x.y.z"}) == "API key"
    assert auth_way({"authorization": "cpk_x.y.z"}) == "API key"
    assert auth_way({"authorization": "Bearer eyJhbGciOi"}) == "JWT"
    assert auth_way({"authorization": "  "}) == "none"
    assert auth_way({}) == "none"


def test_suites_are_named_from_the_test_id():
    assert suite_of("tests/contract/test_rules.py::test_rule[x]") == "contract"
    assert suite_of("tests/property/test_lifecycle.py::test_l[0]") == "property"
    assert suite_of("elsewhere/test_x.py::t") == "other"


def test_cells_count_requests_and_the_tests_that_decided_with_them():
    coverage = Coverage()
    coverage.current = "tests/contract/test_rules.py::test_rule[a]"
    coverage.record("GET", "/api_keys/", {"x-chutes-hotkey": "h"})
    coverage.record("GET", "/api_keys/", {"x-chutes-hotkey": "h"})
    coverage.record("PATCH", "/api_keys/", {})
    coverage.current = "tests/property/test_x.py::test_b"
    coverage.record("POST", "/api_keys/", {"authorization": "Basic cpk_k"})
    coverage.current = ""
    coverage.record("DELETE", "/api_keys/k", {"x-chutes-hotkey": "h"})
    outcomes = {
        "tests/contract/test_rules.py::test_rule[a]": ("passed", ""),
        "tests/property/test_x.py::test_b": ("skipped", "needs D12 listed"),
        "tests/contract/test_rules.py::test_rule[c]": ("skipped", "needs D12 listed"),
    }
    text = "\n".join(coverage.lines(outcomes))
    assert "coverage: 5 requests (contract 3, property 1, set-up and clean-up 1)" in text
    rows = {line.strip().split("  ")[0]: line for line in text.splitlines()[2:8]}
    assert rows[LIST].split()[2:] == ["2", "(1)", "-", "-", "-"]  # hotkey, API key, JWT, none
    assert rows[CREATE].split()[2:] == ["-", "1", "(0)", "-", "-"]  # a test that decided nothing
    assert rows[OTHER].split()[-5:] == ["-", "-", "-", "1", "(1)"]
    assert "rules decided: 1 test(s); not decided: 2 test(s):" in text
    assert "2 × needs D12 listed: test_rules.py::test_rule[c], test_x.py::test_b" in text
    merged = Coverage()
    merged.merge(coverage.state())
    merged.merge(coverage.state())
    assert merged.total() == 10
    facts = coverage.as_json(outcomes)
    assert facts["requests"] == 5
    assert {"operation": LIST, "auth": "hotkey", "requests": 2} in facts["cells"]
    assert facts["not_decided"]["tests/property/test_x.py::test_b"] == "needs D12 listed"


def test_nothing_sent_means_no_coverage_part():
    assert Coverage().lines({}) == []
