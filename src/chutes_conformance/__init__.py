"""The conformance suites, installed: `chutes-conformance --base-url URL`.

The suites' one copy is `tests/contract/`, `tests/property/` and what they
share (`tests/support/`, `tests/plugin.py`) in the source tree. A wheel
carries them under `chutes_conformance/suites/` (copied by `setup.py` at
build time, as the OpenAPI documents are); an editable install or a
checkout runs them where they are.
"""
