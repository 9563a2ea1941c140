"""The ``Services`` of the app that serves a request, as a FastAPI dependency.

Route handlers are module-level functions, registered on a module-level router,
instead of closures inside ``build_router(services)``: each can be read (and
called in a test) on its own. They ask for what the app was built with by type,
``services: ServicesDep``, and FastAPI hands them ``app.state.services``, which
``bot.app.http.create_app`` sets. The dependency takes nothing from the request
but the app, so it adds no parameter to the OpenAPI document; it is ``async`` so
that resolving it never costs a trip through the thread pool.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from bot.core.services import Services


async def app_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(app_services)]
