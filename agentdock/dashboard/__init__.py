"""``agentdock dashboard``: a web console over the metadata store and the targets.

The backend (``app.py``, ``routes.py``) calls the same library functions as the CLI
(``service.py``); the page (``static/``) is plain HTML, CSS and JavaScript shipped in the wheel.
"""

from agentdock.dashboard.app import create_dashboard

__all__ = ["create_dashboard"]
