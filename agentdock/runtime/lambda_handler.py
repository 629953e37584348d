"""The buffered Lambda flavour's handler: ``handler`` = Mangum over the AgentDock app.

Built when Lambda imports this module (the function's init phase), from the frozen spec the image
carries (``app_from_frozen``); the ASGI lifespan starts there too, so the graph, the store client
and the key cache load during init, not on the first request (see ``lambda_mangum``).

Function URL (payload 2.0) and API Gateway HTTP API events work as they are: base64 bodies, raw
query strings, headers (lower-cased) and the ``cookies`` list all reach the app. The streaming
flavour does not use this module: there uvicorn runs behind the Lambda Web Adapter.
"""

from __future__ import annotations

from agentdock.runtime.lambda_mangum import WarmMangum, build_handler


def _create() -> WarmMangum:
    from agentdock.runtime.app import app_from_frozen

    return build_handler(app_from_frozen())


handler = _create()
