"""The account pages in the order the navigation lists them (PRODUCT.md "Pages")."""

from __future__ import annotations

# (path, label): the paths are those of the `Page` objects that render them.
PAGES = (
    ("/account", "Personal info"),
    ("/account/security", "Signing in"),
    ("/account/sessions", "Device activity"),
    ("/account/tokens", "Issue token"),
    ("/account/log", "Security log"),
)
PATHS = tuple(path for path, _ in PAGES)


def page_of(path: str) -> str:
    """The account page an address belongs to: the longest page path it starts with."""
    owners = [page for page in PATHS if path == page or path.startswith(page + "/")]
    return max(owners, key=len, default="/account")
