from cpd_common.errors import NotFound, ProblemError, Unprocessable


class SsoNotConfigured(NotFound):
    title = "Single sign-on not configured"


class SsoLoginNotValid(ProblemError):
    """The provider sent someone back with a state the gateway did not issue (or long ago)."""

    status, code, title = 400, "invalid-sso-state", "Sign-in not valid"


class BadRedirect(Unprocessable):
    title = "Redirect URI not allowed"


class SignInRefused(Exception):
    """The provider's answer does not sign anyone in: the app is told why (``error``)."""

    def __init__(self, description: str, error: str = "access_denied") -> None:
        super().__init__(description)
        self.description = description
        self.error = error


class ProviderUnavailable(ProblemError):
    status, code, title = 502, "sso-provider-unavailable", "Identity provider unavailable"
