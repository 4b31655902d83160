from cpd_common.errors import NotFound, Unauthorized


class InvalidGrant(Unauthorized):
    """A refresh token or sign-in code that is unknown, expired, spent, revoked or another client's."""

    code, title = "invalid-grant", "Grant not valid"


class SessionRevoked(InvalidGrant):
    """The request revoked the session (a spent token was replayed, or the person may no
    longer sign in): the revocation must be committed even though the answer is a 401."""


class UnknownClient(Unauthorized):
    code, title = "invalid-client", "Unknown client"


class SessionNotFound(NotFound):
    title = "Session not found"
