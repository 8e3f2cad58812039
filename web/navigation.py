"""The account pages in the order the navigation lists them (PRODUCT.md "Pages")."""

from __future__ import annotations

from urllib.parse import urlencode

from backend.kernel.i18n import N_

# (path, label): the paths are those of the `Page` objects that render them.
PAGES = (
    ("/account", N_("Personal info")),
    ("/account/security", N_("Signing in")),
    ("/account/sessions", N_("Device activity")),
    ("/account/tokens", N_("Issue token")),
    ("/account/log", N_("Security log")),
)
PATHS = tuple(path for path, _ in PAGES)
# "Confirm it's you": re-authentication before a sensitive change (web/reauthentication_pages.py).
REAUTHENTICATE = "/account/reauthenticate"


def page_of(path: str) -> str:
    """The account page an address belongs to: the longest page path it starts with."""
    owners = [page for page in PATHS if path == page or path.startswith(page + "/")]
    return max(owners, key=len, default="/account")


def reauthenticate(back: str) -> str:
    """The "Confirm it's you" page, returning to the account page of `back` afterwards."""
    return f"{REAUTHENTICATE}?{urlencode({'next': page_of(back)})}"
