"""The ASGI runtime every target runs: ``agentdock.runtime.app.create_app`` / ``app_from_frozen``.

Nothing is imported here: ``agentdock.security`` and ``agentdock.policy`` import
``agentdock.stages`` (the pipeline seams), which must not pull in the app.
"""
