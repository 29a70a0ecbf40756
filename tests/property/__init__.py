"""Hypothesis model-based tests of the key lifecycle, isolation and signatures.

    model.py                     what the server should hold and answer (docs/behaviour.md), and
                                 what production answers where a deviation changes it
    judge.py                     an answer against that prediction, with the session's
                                 recognisers and its list of known deviations
    strategies.py                values at the rules' edges
    calls.py                     replayable calls and their answers
    shared.py                    list pages judged on this run's keys, other clients alongside
    conftest.py                  the session's judge; failures in the report, tagged
    test_lifecycle.py            the state machine: two users, every answer predicted
    test_auth_mutations.py       a correct signature with one thing changed
    test_api_key_properties.py   token format, wrong secrets, revocation
    test_jwt_properties.py       a JWT naming no user (needs the mock's control API)
    runs.py                      in-process runs on a mock with chosen defects and list
    test_teeth.py                the machine fails on D1/D3/D8/D9 and on broken mocks
    test_known_deviations.py     with the list, production passes; resembling bugs fail

Run: `.venv/bin/pytest tests/property` (profile `ci`), `--hypothesis-profile deep`
(raise `--max-keys`, e.g. 5000, for all its examples), `--base-url URL` for a deployment,
`--known-deviations production` to tolerate (and report) production's known defects.
"""
