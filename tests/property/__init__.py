"""Hypothesis model-based tests of the key lifecycle, isolation and signatures.

    model.py                     what the server should hold and answer (SEMANTICS)
    strategies.py                values at the rules' edges
    calls.py                     replayable calls, answers, comparison with a prediction
    test_lifecycle.py            the state machine: two users, every answer predicted
    test_auth_mutations.py       a correct signature with one thing changed
    test_api_key_properties.py   token format, wrong secrets, revocation
    test_teeth.py                the machine fails on D1/D3/D8/D9 and on broken mocks

Run: `.venv/bin/pytest tests/property` (profile `ci`), `--hypothesis-profile deep`
(raise `--max-keys`, e.g. 5000, for all its examples), `--base-url URL` for a deployment.
"""
