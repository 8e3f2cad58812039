"""The session cookie: its name and flags follow the public URL's scheme."""

from starlette.responses import Response

from backend.api.outcome import SessionOutcome
from backend.auth.signin.known_browsers import LIFETIME_DAYS as KNOWN_BROWSER_DAYS
from backend.infra.config import Settings


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    # No max_age: the server enforces the timeouts; the cookie ends with the browser.
    response.set_cookie(
        settings.session_cookie_name,
        token,
        path="/",
        domain=settings.cookie_domain or None,  # shared with sibling hosts when set
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
    )


def set_device_cookie(response: Response, settings: Settings, value: str) -> None:
    """The recognized-device cookie outlives the browser session, for the configured days."""
    response.set_cookie(
        settings.device_cookie_name,
        value,
        max_age=settings.trusted_device_days * 86400,
        path="/",
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
    )


def set_known_browser_cookie(response: Response, settings: Settings, value: str) -> None:
    """Marks a browser that signed in to the account, for a year (auth/signin/known_browsers.py)."""
    response.set_cookie(
        settings.known_browser_cookie_name,
        value,
        max_age=KNOWN_BROWSER_DAYS * 86400,
        path="/",
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        settings.session_cookie_name,
        path="/",
        domain=settings.cookie_domain or None,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
    )


def apply_outcome(response: Response, settings: Settings, outcome: SessionOutcome) -> Response:
    """Turn what an operation did to the session and device into Set-Cookie headers."""
    if outcome.started_token:
        set_session_cookie(response, settings, outcome.started_token)
    elif outcome.ended:
        clear_session_cookie(response, settings)
    if outcome.remembered_device:
        set_device_cookie(response, settings, outcome.remembered_device)
    if outcome.known_browser:
        set_known_browser_cookie(response, settings, outcome.known_browser)
    return response


def outcome_headers(settings: Settings, outcome: SessionOutcome) -> list[tuple[bytes, bytes]]:
    """The Set-Cookie headers alone, for an answer already being sent."""
    carrier = apply_outcome(Response(), settings, outcome)
    return [(name, value) for name, value in carrier.raw_headers if name == b"set-cookie"]
