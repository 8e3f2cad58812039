"""Jinja2 environment: autoescaped templates and the filters that format times."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.templating import Jinja2Templates

from backend import clock
from web import navigation
from web.factors import FACTOR_KINDS

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def local_time(value: str | None, time_zone: str = "UTC") -> str:
    """An ISO 8601 time from the API, shown in the viewer's time zone."""
    if not value:
        return "never"
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    moment = datetime.fromisoformat(value).astimezone(zone)
    return moment.strftime("%Y-%m-%d %H:%M %Z")


def within_days(value: str | None, days: int) -> bool:
    """Whether an ISO 8601 time from the API is in the future, at most `days` ahead."""
    if not value:
        return False
    now = clock.now()
    return now < datetime.fromisoformat(value) <= now + timedelta(days=days)


templates.env.filters["local_time"] = local_time
templates.env.globals["factor_kinds"] = FACTOR_KINDS
templates.env.filters["within_days"] = within_days
templates.env.globals["navigation"] = navigation.PAGES
templates.env.globals["page_of"] = navigation.page_of
