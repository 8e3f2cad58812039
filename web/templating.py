"""Jinja2 environment: autoescaped templates, gettext in the page's language, and the
filters that format times."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from backend.kernel import clock, i18n
from web import navigation, page_language
from web.admin_labels import ACCOUNT_STATUSES, ACCOUNT_TYPES
from web.factors import FACTOR_KINDS
from web.scope_descriptions import describe

if TYPE_CHECKING:
    from starlette.templating import Jinja2Templates


def _gettext(message: str) -> str:
    return i18n.gettext(page_language.drawing(), message)


def _ngettext(singular: str, plural: str, count: int) -> str:
    return i18n.ngettext(page_language.drawing(), singular, plural, count)


def local_time(value: str | None, time_zone: str = "UTC") -> str:
    """An ISO 8601 time from the API, shown in the viewer's time zone and language."""
    if not value:
        return _gettext("never")
    return i18n.format_datetime(datetime.fromisoformat(value), page_language.drawing(), time_zone)


def local_date(value: str | None, time_zone: str = "UTC") -> str:
    if not value:
        return _gettext("never")
    return i18n.format_date(datetime.fromisoformat(value), page_language.drawing(), time_zone)


def translated(message: str | None) -> str:
    """A message id chosen in code (a page title, a method's name), in the page's language."""
    return _gettext(message) if message else ""


def within_days(value: str | None, days: int) -> bool:
    """Whether an ISO 8601 time from the API is in the future, at most `days` ahead."""
    if not value:
        return False
    now = clock.now()
    return now < datetime.fromisoformat(value) <= now + timedelta(days=days)


@cache
def templates() -> Jinja2Templates:
    """The environment, built by the first page drawn: a worker serving only the API never
    loads Jinja."""
    from starlette.templating import Jinja2Templates

    templates = Jinja2Templates(
        directory=Path(__file__).parent / "templates", context_processors=[page_language.context]
    )
    templates.env.add_extension("jinja2.ext.i18n")
    # Whitespace inside {% trans %} is folded, so message ids stay one line.
    templates.env.policies["ext.i18n.trimmed"] = True
    templates.env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    templates.env.filters["local_time"] = local_time
    templates.env.filters["local_date"] = local_date
    templates.env.filters["translated"] = translated
    templates.env.filters["scope_description"] = describe
    templates.env.globals["factor_kinds"] = FACTOR_KINDS
    # For forms that carry the page's language on (imported macros have no context).
    templates.env.globals["page_language"] = page_language.drawing
    templates.env.filters["within_days"] = within_days
    templates.env.globals["navigation"] = navigation.PAGES
    templates.env.globals["page_of"] = navigation.page_of
    templates.env.globals["admin_navigation"] = navigation.ADMIN_PAGES
    templates.env.globals["admin_page_of"] = navigation.admin_page_of
    templates.env.globals["account_statuses"] = ACCOUNT_STATUSES
    templates.env.globals["account_types"] = ACCOUNT_TYPES
    return templates
