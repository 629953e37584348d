"""The 401 a bearer-token failure gets (RFC 6750), shared by the JWT, OAuth2 and API-key paths.

Apart from ``jwt`` so that an API-key-only agent never imports PyJWT (and ``cryptography``)
at cold start.
"""

from agentdock.errors import AuthenticationError

BEARER_CHALLENGE = 'Bearer error="invalid_token"'


def unauthorized(cause: str) -> AuthenticationError:
    return AuthenticationError(cause, headers={"WWW-Authenticate": BEARER_CHALLENGE})
