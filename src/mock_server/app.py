"""`create_app(settings)`: wires the spec, the state, the routes, the journal
and the errors."""

from __future__ import annotations

from collections import defaultdict

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server import control, routes, spec
from mock_server.access_log import AccessLogMiddleware
from mock_server.clock import Clock
from mock_server.errors import ApiError, ProductionDefect
from mock_server.faults import FaultMiddleware
from mock_server.journal import Journal, JournalMiddleware
from mock_server.pipeline import Endpoint, Handler
from mock_server.quirks import Quirk, catch_all, routing
from mock_server.responses import error_response, json_response, production_500, render_json
from mock_server.settings import Settings
from mock_server.spec import Document
from mock_server.state import MockState


def spec_operations(settings: Settings) -> list[spec.Operation]:
    """The operations to serve: the contract's, and the control API's when on."""
    ops = spec.operations(spec.load_document(settings.spec_path), Document.AUTH)
    if settings.control:
        ops += spec.operations(spec.load_document(settings.control_spec_path), Document.CONTROL)
    return ops


def check_parity(
    operations: list[spec.Operation], handlers: dict[Document, dict[str, Handler]]
) -> None:
    """Fail at start-up unless each served document's operationIds and its
    handlers are the same set."""
    for document in {op.document for op in operations}:
        in_spec = {op.operation_id for op in operations if op.document is document}
        handled = set(handlers[document])
        if unhandled := sorted(in_spec - handled):
            raise RuntimeError(f"{document}: operations without a handler: {unhandled}")
        if orphans := sorted(handled - in_spec):
            raise RuntimeError(f"{document}: handlers without an operation: {orphans}")


def build_routes(
    operations: list[spec.Operation],
    state: MockState,
    handlers: dict[Document, dict[str, Handler]],
) -> list[Route]:
    """One route per spec path, over `state`; fails at start-up if spec and
    handlers differ."""
    check_parity(operations, handlers)
    by_handler = {name: h for per_document in handlers.values() for name, h in per_document.items()}
    by_path: dict[str, dict[str, spec.Operation]] = defaultdict(dict)
    for op in operations:
        by_path[op.path][op.method] = op
    result = []
    for path, ops in by_path.items():
        route = Route(path, Endpoint(ops, by_handler, state), methods=list(ops))
        # No implicit HEAD (the spec does not list it), and the spec's order,
        # so a 405's `Allow` reads the same in every process (a set's order
        # follows the hash seed).
        route.methods = dict.fromkeys(ops).keys()  # type: ignore[assignment]
        result.append(route)
    return result


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return json_response({"detail": exc.detail}, exc.status_code, exc.headers)


async def _production_defect(request: Request, exc: Exception) -> Response:
    return production_500()


def openapi_route(settings: Settings) -> Route:
    """`GET /openapi.json`: the contract as JSON, as production serves its own."""
    body = render_json(spec.load_document(settings.spec_path))

    async def openapi_json(request: Request) -> Response:
        return Response(body, media_type="application/json")

    route = Route("/openapi.json", openapi_json, methods=["GET"])
    route.methods = {"GET"}  # no implicit HEAD, as for the contract's routes
    return route


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> Starlette:
    settings = settings or Settings()
    state = MockState.build(settings, clock)
    operations = spec_operations(settings)
    journal = Journal(
        settings.journal_size,
        query_names={
            p.name
            for op in operations
            if op.document is Document.AUTH
            for p in op.parameters
            if p.location == "query"
        },
    )
    app_routes = [
        *build_routes(
            operations,
            state,
            {Document.AUTH: routes.HANDLERS, Document.CONTROL: control.handlers(journal)},
        ),
        openapi_route(settings),
    ]
    if Quirk.D14 in settings.quirks:  # production's framework: one route per operation
        app_routes = routing.one_route_per_operation(app_routes)
    if Quirk.D12 in settings.quirks:  # production's catch-all route, after the others
        app_routes = catch_all.with_catch_all(app_routes, state)
    app = Starlette(
        routes=app_routes,
        middleware=[
            Middleware(AccessLogMiddleware),
            Middleware(JournalMiddleware, journal=journal, now=state.clock.now),
            Middleware(FaultMiddleware, book=state.faults),
        ],
        exception_handlers={
            ApiError: _api_error,
            HTTPException: _http_error,
            ProductionDefect: _production_defect,
        },
    )
    app.state.mock = state
    app.state.journal = journal
    return app
