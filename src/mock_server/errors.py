"""Typed errors and the detail strings clients match on, word for word.

    ApiError                 a refusal: a status and a detail
     ├── BadRequest          400: a business rule refused the request
     ├── Unauthorized        401: authentication failed
     ├── NotFound            404: no such object for this caller
     ├── Conflict            409: the object exists already
     ├── PayloadTooLarge     413: the body is over the limit
     └── ValidationFailed    422: fields failed the spec (FastAPI's list shape)
    ProductionDefect         500 text/plain, raised only under `--quirks`

Nothing here imports Starlette: `app.py` renders these.
"""

from __future__ import annotations

from typing import Any

# 401, authentication (behaviour §2-§5).
NO_CREDENTIALS = "Can't find a user with that api key in our db :("
INVALID_NONCE = "Invalid nonce!"
UNPARSEABLE_SIGNATURE = "Invalid signature: {signature}, with error: {error}"
BAD_SIGNATURE = "Invalid request signature for hotkey {hotkey}. Message: {message}"
NOT_REGISTERED = "Hotkey is not registered on netuid {netuid}"
UNKNOWN_HOTKEY = "Could not find user with hotkey: {hotkey}"
MALFORMED_API_KEY = "Missing or invalid authorization header(s)"
API_KEY_REFUSED = "Invalid token or user not found"
JWT_INVALID = "Invalid token."
JWT_EXPIRED = "Token expired."

# Production's catch-all route (quirk D12, behaviour §9).
SIGNED_WITHOUT_BODY = "Either payload_str or purpose must be provided"
AUTHENTICATION_REQUIRED = "Authentication required."
NO_MATCHING_CHUTE = "No matching chute found!"

# 400/404/409, business rules (behaviour §4).
BAD_KEY_NAME = (
    "Invalid request: API key name should start with alphanumeric character and contain "
    "up to 32 total allowed characters (letters, numbers, dashes, underscores, or spaces)"
)
BAD_OBJECT_TYPE = "Invalid request: Invalid object_type, must be one of images, chutes, invocations"
DUPLICATE_KEY_NAME = "An API key already exists with this name"
GET_KEY_NOT_FOUND = "API key with id {api_key_id} not found or doesn't belong to you"
DELETE_KEY_NOT_FOUND = "API key not found, or does not belong to you"

# Transport-level refusals.
BODY_TOO_LARGE = "Request body too large (limit {limit} bytes)"
BODY_NOT_UTF8 = "There was an error parsing the body"

# Control API (openapi/control.yaml).
CONTROL_TOKEN_REQUIRED = "Missing or wrong X-Mock-Control-Token"
CLOCK_OUT_OF_RANGE = (
    "Moving the clock by {seconds} seconds would take it out of 0 to 253402300799"
    " (9999-12-31T23:59:59Z)"
)


class ApiError(Exception):
    """A refusal the client can act on: an HTTP status and a detail."""

    status = 400

    def __init__(self, detail: Any) -> None:
        super().__init__(detail)
        self.detail = detail


class BadRequest(ApiError):
    """A business rule refused the request."""

    status = 400


class Unauthorized(ApiError):
    """Authentication failed."""

    status = 401


class NotFound(ApiError):
    """No such object, or not the caller's."""

    status = 404


class Conflict(ApiError):
    """An object with that identity exists already."""

    status = 409


class PayloadTooLarge(ApiError):
    """The request body is larger than the limit."""

    status = 413


class ValidationFailed(ApiError):
    """Fields failed validation; `detail` is FastAPI's list of entries."""

    status = 422

    def __init__(self, entries: list[dict[str, Any]]) -> None:
        super().__init__(entries)


class ProductionDefect(Exception):
    """Production answers 500 here; raised only when that quirk is on."""

    def __init__(self, quirk: str) -> None:
        super().__init__(quirk)
        self.quirk = quirk
