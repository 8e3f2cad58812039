"""The account pages in the order the navigation lists them (PRODUCT.md "Pages")."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode, urlsplit

from backend.infra.config import origin_of
from backend.kernel.i18n import N_

# (path, label): the paths are those of the `Page` objects that render them.
PAGES = (
    ("/account", N_("Personal info")),
    ("/account/security", N_("Signing in")),
    ("/account/sessions", N_("Device activity")),
    ("/account/tokens", N_("Issue token")),
    ("/account/applications", N_("Applications")),
    ("/account/log", N_("Security log")),
)
PATHS = tuple(path for path, _ in PAGES)
# The administrators' pages, listed in the navigation for administrators only
# (web/admin_pages.py); one account's page is /admin/users/<id> under "Users".
ADMIN_PAGES = (
    ("/admin", N_("Users")),
    ("/admin/groups", N_("Groups")),
    ("/admin/log", N_("Operator log")),
)
ADMIN_PATHS = tuple(path for path, _ in ADMIN_PAGES)
_ADMIN_USER = re.compile(r"/admin/users/[1-9][0-9]{0,18}")
# "Confirm it's you": re-authentication before a sensitive change (web/reauthentication_pages.py).
REAUTHENTICATE = "/account/reauthenticate"


def page_of(path: str) -> str:
    """The account page an address belongs to: the longest page path it starts with."""
    owners = [page for page in PATHS if path == page or path.startswith(page + "/")]
    return max(owners, key=len, default="/account")


def is_admin_page(path: object) -> bool:
    """One of the administrators' pages, exactly: a path to come back to after "Confirm
    it's you" or signing in."""
    return isinstance(path, str) and (path in ADMIN_PATHS or bool(_ADMIN_USER.fullmatch(path)))


def admin_page_of(path: str) -> str:
    """The administrators' navigation entry an address belongs to (an account's page is
    under "Users")."""
    return path if path in ADMIN_PATHS else "/admin"


SIGN_IN = "/login"
HOME = "/account"
# An application's sign-in (OpenID Connect) continues after Latchkey's own.
AUTHORIZE = "/oauth/authorize"


def sign_in(back: str) -> str:
    """The sign-in page, going on to `back` (a path of ours, query included) afterwards."""
    back = after_sign_in(back)
    return SIGN_IN if back == HOME else f"{SIGN_IN}?{urlencode({'next': back})}"


def after_sign_in(value: object, origins: tuple[str, ...] = ()) -> str:
    """Where a sign-in goes on to: `value` when it is one of Latchkey's account pages (its
    query kept, as in an email's /account/tokens?regenerate=ID), or an address on one of
    `origins` (this server's and LATCHKEY_TRUSTED_ORIGINS: the applications a reverse proxy
    protects); else the account page. A `next` naming another site, or a path a browser
    would read as one (//host, /\\host), is ignored."""
    if not isinstance(value, str) or len(value) > 2000:
        return HOME
    if any(ord(char) < 0x21 or char == "\\" for char in value):
        return HOME
    if not value.startswith("/"):
        return value if _on_origin(value, origins) else HOME
    parts = urlsplit(value)
    ours = parts.path in (HOME, AUTHORIZE) or parts.path.startswith(HOME + "/")
    ours = ours or is_admin_page(parts.path)
    ours = ours and ".." not in parts.path
    return value if ours and not (parts.scheme or parts.netloc) else HOME


def reauthenticate(back: str) -> str:
    """The "Confirm it's you" page, returning to the account page of `back` afterwards, or
    to an administrators' page, or to an application's sign-in that asked for a fresh one."""
    if not is_authorization(back) and not is_admin_page(back):
        back = page_of(back)
    return f"{REAUTHENTICATE}?{urlencode({'next': back})}"


def is_authorization(value: object) -> bool:
    """An application's sign-in at /oauth/authorize, safe to return to."""
    return (
        isinstance(value, str)
        and value.startswith(AUTHORIZE + "?")
        and after_sign_in(value) == value
    )


def login_hint(back: str) -> str:
    """The username an application's sign-in suggests (OpenID Connect `login_hint`), to
    prefill the sign-in form; only a suggestion, and the same page whether it exists."""
    if not is_authorization(back):
        return ""
    hint = parse_qs(urlsplit(back).query).get("login_hint", [""])[0]
    return hint[:150] if hint.isprintable() else ""



def _on_origin(url: str, origins: tuple[str, ...]) -> bool:
    """An absolute http(s) URL on exactly one of `origins` (scheme, host and port)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or "@" in parts.netloc or not parts.hostname:
        return False
    try:
        return origin_of(url) in origins
    except ValueError:  # a port that is not a number
        return False
