"""D14: one route per operation, as production's framework registers them.

The contract's router has one route per path, so a method the path lacks
gets `405` with `Allow` naming every method of the path (`GET, POST` on
`/api_keys/`). Production registers one route per operation; a router
remembers the first route whose path matched, and its 405 names that
route's method alone: `Allow: GET` on `/registry/auth`, `/api_keys/` and
`/api_keys/{id}`. With D12 too, only the methods the catch-all does not
take (OPTIONS, TRACE, ...) get that far.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route


def one_route_per_operation(routes: list[BaseRoute]) -> list[BaseRoute]:
    """`routes` with each multi-operation route split into one route per
    operation, in the spec's order, none with an implicit HEAD."""
    laid_out: list[BaseRoute] = []
    for route in routes:
        operations = getattr(getattr(route, "endpoint", None), "operations", None)
        if not isinstance(route, Route) or not operations:
            laid_out.append(route)
            continue
        for method in operations:
            single = Route(route.path, route.endpoint, methods=[method], name=route.name)
            single.methods = {method}  # a GET route adds no HEAD in production
            laid_out.append(single)
    return laid_out
