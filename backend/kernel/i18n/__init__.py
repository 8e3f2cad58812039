"""Languages: English and Japanese, from one gettext catalog compiled by the install step.

Code keeps English message ids with their values (`{name}` placeholders); the text is
translated where it is shown: the GraphQL error mapping, the pages and the notices.
"""

from __future__ import annotations

import dataclasses
import gettext as _gettext
import io
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    from babel import Locale

# Babel and its locale data (megabytes once a locale is parsed) load on first use: a worker
# answering English API calls, throttled sign-ins included, never needs them.

LANGUAGES = ("en", "ja")
DEFAULT = "en"
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"


def N_(message: str) -> str:
    """Marks an English message id for extraction; translated later, where it is shown."""
    return message


@dataclasses.dataclass(frozen=True)
class Duration:
    """A wait given in seconds; worded for the reader's language when shown."""

    seconds: int


@dataclasses.dataclass(frozen=True)
class Moment:
    """A date and time; written as the reader's locale writes them, in their time zone."""

    at: datetime
    time_zone: str | None = "UTC"


@dataclasses.dataclass(frozen=True)
class Term:
    """A value that is itself an English message id (a method's name, for one)."""

    text: str


def supported(language: str | None) -> str | None:
    """The language code if we speak it, else None."""
    return language if language in LANGUAGES else None


def choose(choice: str | None, accept_language: str | None) -> str:
    """The user's own choice first, then the browser's preference, else English."""
    if supported(choice):
        return choice  # type: ignore[return-value]
    return from_accept_language(accept_language or "")


def from_accept_language(header: str) -> str:
    """The first language of an `Accept-Language` header we speak, by quality."""
    wanted: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")[:20]):
        tag, _, parameters = item.strip().partition(";")
        quality = 1.0
        if parameters.strip().startswith("q="):
            try:
                quality = float(parameters.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().split("-")[0].lower()
        if quality > 0 and primary in LANGUAGES:
            wanted.append((-quality, position, primary))
    return min(wanted)[2] if wanted else DEFAULT


@cache
def translations(language: str) -> _gettext.NullTranslations:
    """The catalog for a language, loaded once; English is the message ids themselves."""
    if language not in LANGUAGES or language == DEFAULT:
        return _gettext.NullTranslations()
    from babel.support import Translations

    folder = LOCALE_DIR / language / "LC_MESSAGES"
    compiled = folder / f"{DOMAIN}.mo"
    if compiled.exists():
        with compiled.open("rb") as file:
            return Translations(file, domain=DOMAIN)
    # A checkout not yet installed: compile the catalog in memory instead.
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with (folder / f"{DOMAIN}.po").open("rb") as file:
        catalog = read_po(file, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def gettext(language: str, message: str) -> str:
    return translations(language).gettext(message)


def ngettext(language: str, singular: str, plural: str, count: int) -> str:
    return translations(language).ngettext(singular, plural, count)


def translate(language: str, message: str, params: Mapping[str, Any] | None = None) -> str:
    """A message id in `language`, its `{placeholders}` filled with values worded for it."""
    text = gettext(language, message)
    if not params:
        return text
    return text.format(**{name: _worded(language, value) for name, value in params.items()})


def _worded(language: str, value: Any) -> Any:
    if isinstance(value, Duration):
        return format_duration(value.seconds, language)
    if isinstance(value, Moment):
        return format_datetime(value.at, language, value.time_zone)
    if isinstance(value, Term):
        return gettext(language, value.text)
    return value


def duration_shown(seconds: int) -> tuple[timedelta, str]:
    """What a wait of `seconds` is shown as, and in which unit (see format_duration)."""
    if seconds < 60:
        return timedelta(seconds=max(1, seconds)), "second"
    if seconds % 3600 == 0:
        return timedelta(seconds=seconds), "hour"
    return timedelta(minutes=-(-seconds // 60)), "minute"


def format_duration(seconds: int, language: str) -> str:
    """Seconds under a minute, whole minutes (rounded up) above, whole hours when even:
    "5 minutes", "5 分", "1 hour"."""
    delta, unit = duration_shown(seconds)
    if (supported(language) or DEFAULT) == "en":
        return _english_duration(delta, unit)
    from babel import dates as babel_dates

    return babel_dates.format_timedelta(
        delta, granularity=unit, threshold=1000, format="long", locale=_locale(language)
    )


_SECONDS_PER = {"second": 1, "minute": 60, "hour": 3600}


def _english_duration(delta: timedelta, unit: str) -> str:
    # What Babel writes for English ("1 minute", "5 minutes") without parsing its locale data.
    count = round(delta.total_seconds() / _SECONDS_PER[unit])
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def language_of(user: Any) -> str:
    """The language a user chose, for what reaches them outside a request (mail, SMS)."""
    return supported(getattr(user, "language", None)) or DEFAULT


def zone(time_zone: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def format_datetime(moment: datetime, language: str, time_zone: str | None = "UTC") -> str:
    """A date and time to the minute, as the locale writes them, in the user's time zone."""
    from babel import dates as babel_dates

    local = moment.astimezone(zone(time_zone))
    locale = _locale(language)
    day = babel_dates.format_date(local, "medium", locale=locale)
    time = babel_dates.format_time(local, "short", locale=locale)
    pattern = locale.datetime_formats["medium"]
    return f"{pattern.format(time, day)} {local.strftime('%Z')}"


def format_date(moment: datetime, language: str, time_zone: str | None = "UTC") -> str:
    from babel import dates as babel_dates

    local = moment.astimezone(zone(time_zone))
    return babel_dates.format_date(local, "medium", locale=_locale(language))


@cache
def _locale(language: str) -> Locale:
    from babel import Locale

    return Locale.parse(supported(language) or DEFAULT)
