"""A small client for the Chutes API keys endpoints, as an SDK would write it.

It authenticates with an API key, a JWT, or a hotkey signer (a callable that
returns the three X-Chutes-* headers for a request), and raises `ApiError`
with the server's status and detail. An httpx transport can be given (in
tests: the mock's, with no socket).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import httpx

Signer = Callable[[str, str, bytes], dict[str, str]]  # (method, path, body) -> headers


class ApiError(Exception):
    """The server answered with a status other than 200."""

    def __init__(self, status: int, detail: Any, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})


class KeysClient:
    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        jwt: str | None = None,
        signer: Signer | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 10,
    ) -> None:
        self._http = httpx.Client(base_url=base_url, timeout=timeout, transport=transport)
        self._api_key, self._jwt, self._signer = api_key, jwt, signer

    def close(self) -> None:
        self._http.close()

    def list(self, page: int = 0, limit: int = 25) -> dict[str, Any]:
        return self._call("GET", "/api_keys/", params={"page": page, "limit": limit})

    def create(self, name: str, admin: bool = True) -> dict[str, Any]:
        return self._call("POST", "/api_keys/", body={"name": name, "admin": admin})

    def get(self, api_key_id: str) -> dict[str, Any]:
        return self._call("GET", f"/api_keys/{api_key_id}")

    def delete(self, api_key_id: str) -> dict[str, Any]:
        return self._call("DELETE", f"/api_keys/{api_key_id}")

    def _call(
        self, method: str, path: str, *, params: dict | None = None, body: dict | None = None
    ) -> dict[str, Any]:
        content = json.dumps(body).encode() if body is not None else b""
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if self._signer is not None:  # the signature covers these exact bytes
            headers.update(self._signer(method, path, content))
        elif self._api_key is not None:
            headers["Authorization"] = f"Basic {self._api_key}"
        elif self._jwt is not None:
            headers["Authorization"] = f"Bearer {self._jwt}"
        response = self._http.request(method, path, params=params, content=content, headers=headers)
        if response.status_code != 200:
            try:
                detail = response.json().get("detail")
            except ValueError:  # a gateway's page, not the API's JSON
                detail = response.text
            raise ApiError(response.status_code, detail, response.headers)
        return response.json()
