"""Mangum with a lifespan that spans the Lambda execution environment (used by ``lambda_handler``).

Plain ``Mangum(app)`` runs the ASGI lifespan startup *and* shutdown around every invocation, so a
graph loaded at startup would load per request. ``WarmMangum`` enters the lifespan once, when it is
built (the function's init phase), hands every invocation a copy of the lifespan state (as
Starlette expects) and runs shutdown once at exit.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
from typing import Any

from mangum import Mangum
from mangum.protocols import HTTPCycle, LifespanCycle
from mangum.types import ASGI, LambdaContext, LambdaEvent


def _ensure_event_loop() -> None:
    """A current event loop for this thread: once one was set and cleared (a loop policy such as
    uvloop's, or a framework closing its loop), ``get_event_loop`` raises instead of making one."""
    try:
        asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())


class WarmMangum(Mangum):
    """Mangum whose lifespan spans the execution environment instead of one invocation."""

    def __init__(self, app: ASGI, **options: Any) -> None:
        super().__init__(app, lifespan="off", **options)
        self._closed = False
        _ensure_event_loop()  # Mangum's LifespanCycle asks for the current loop (get_event_loop)
        self._lifespan = LifespanCycle(app, "auto")
        self._lifespan.__enter__()  # runs startup now; raises if the app's startup fails
        atexit.register(self.close)

    def __call__(self, event: LambdaEvent, context: LambdaContext) -> dict[str, Any]:
        handler = self.infer(event, context)
        scope = handler.scope
        scope["state"] = self._lifespan.lifespan_state.copy()
        return handler(HTTPCycle(scope, handler.body)(self.app))

    def close(self) -> None:
        """Run the app's shutdown (flush telemetry, close pools) once, at interpreter exit at the
        latest (a function without extensions gets no shutdown signal from Lambda)."""
        if not self._closed:
            self._closed = True
            with contextlib.suppress(Exception):
                self._lifespan.__exit__(None, None, None)


def build_handler(app: ASGI) -> WarmMangum:
    """The Lambda handler for ``app``; its lifespan starts now."""
    return WarmMangum(app)
