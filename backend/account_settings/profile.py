"""Editing the account: every field checked, all applied together or none."""

from __future__ import annotations

import dataclasses
import unicodedata
import zoneinfo
from functools import cache

from tortoise.transactions import in_transaction

from backend.account_settings import email_change
from backend.accounts.models import User
from backend.accounts.service import email_key, normalize_email, with_name_keys
from backend.audit.service import record
from backend.auth import reauthentication
from backend.auth.factors.models import Authenticator
from backend.auth.factors.registry import sent_to
from backend.auth.services import Services
from backend.auth.sessions.models import Session
from backend.events.emit import emit
from backend.kernel import i18n
from backend.kernel.client_info import ClientInfo
from backend.kernel.errors import DomainError, Problem
from backend.kernel.i18n import N_
from backend.kernel.text import clean_name
from backend.notifications.notices import tell

NAME_FIELDS = ("first_name", "last_name")
KEEP = "keep"  # the language is not changed (None clears the choice)


@dataclasses.dataclass(frozen=True)
class ProfileChanges:
    """Fields left as None are not changed."""

    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    description: str | None = None
    mobile_phone: str | None = None
    time_zone: str | None = None
    language: str | None = KEEP


async def update(
    services: Services,
    user: User,
    session: Session | None,
    client: ClientInfo,
    changes: ProfileChanges,
) -> bool:
    """Apply the changes; True when a new email address waits for its code.

    True as well for an address another account uses, which gets no code (see email_change).
    """
    values, problems = _checked(changes)
    new_email = values.pop("email", None)
    if new_email is not None and email_key(new_email) == user.email_key:
        new_email = None
    problems += await _conflicts(user, values)
    if problems:
        raise DomainError.of(problems)
    # Only what differs is written and logged: the log names the fields that changed (and
    # "This wasn't me" reads a change of phone from it).
    values = {name: value for name, value in values.items() if getattr(user, name) != value}
    phone_changes = "mobile_phone" in values
    if new_email is not None or phone_changes:  # where codes and notices go
        await reauthentication.require(services, user, session)
    if new_email is not None:
        await email_change.reserve_request(user)
    async with in_transaction():
        if values:
            await User.filter(id=user.id).update(**with_name_keys(dict(values)))
            for name, value in values.items():
                setattr(user, name, value)
            await record("account.updated", user=user, client=client, fields=sorted(values))
            await emit("user.updated", user=user, fields=sorted(values))
        code = await email_change.start(user, new_email, services, client) if new_email else None
    if code:
        await email_change.send_code(services, user, new_email, code)
    if phone_changes:
        await tell(
            services.mailer,
            user.email,
            N_("Your mobile phone number changed"),
            N_("The mobile phone number of your account was changed."),
            user=user,
        )
    return code is not None


def _checked(changes: ProfileChanges) -> tuple[dict[str, str | None], list[Problem]]:
    values: dict[str, str | None] = {}
    problems: list[Problem] = []
    checks = {
        "first_name": _name,
        "last_name": _name,
        "description": _description,
        "mobile_phone": _phone,
        "time_zone": _time_zone,
        "email": _email,
    }
    for field, check in checks.items():
        raw = getattr(changes, field)
        if raw is None:
            continue
        try:
            values[field] = check(raw, field)
        except DomainError as error:
            problems += error.problems
    if changes.language != KEEP:
        if changes.language is None or i18n.supported(changes.language):
            values["language"] = changes.language
        else:
            problems.append(Problem("VALIDATION_FAILED", "Choose English or Japanese.", "language"))
    return values, problems


async def _conflicts(user: User, values: dict) -> list[Problem]:
    # Whether another account uses a new email address is not among them: that would tell
    # any signed-in user which addresses have accounts. The change is accepted alike, and
    # email_change.send_code sends no code to an address that is taken.
    problems = []
    clears_phone = "mobile_phone" in values and values["mobile_phone"] is None
    texted = Authenticator.filter(user=user, kind__in=sent_to("mobile_phone"))
    if clears_phone and await texted.exists():
        problems.append(
            Problem(
                "PHONE_REQUIRED_FOR_SMS",
                "Your codes go to this number. Choose another two-factor method first.",
                "mobile_phone",
            )
        )
    return problems


def _name(value: str, field: str) -> str:
    value = clean_name(value, field)
    if not 1 <= len(value) <= 100:
        raise DomainError("VALIDATION_FAILED", "Use 1 to 100 characters.", field)
    return value


def _description(value: str, field: str) -> str:
    # Line breaks are welcome in a description; other control characters are not.
    lines = [clean_name(line, field) for line in value.strip().splitlines()]
    value = "\n".join(lines)
    if len(value) > 1000:
        raise DomainError("VALIDATION_FAILED", "Use at most 1,000 characters.", field)
    return value


def phone_number(value: str, field: str = "mobile_phone") -> str | None:
    """A mobile phone number as stored (E.164), None for an empty one; VALIDATION_FAILED
    when it is no valid number."""
    return _phone(value, field)


def _phone(value: str, field: str) -> str | None:
    value = unicodedata.normalize("NFKC", value).strip()
    if not value:
        return None
    import phonenumbers  # its metadata is loaded for the profile changes that give a number

    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise DomainError(
            "VALIDATION_FAILED",
            "Enter a valid number with its country code, e.g. +14155552671.",
            field,
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _time_zone(value: str, field: str) -> str:
    """A zone's name, or a city the page's hint suggests ("Berlin", "new york", "Tokyo")."""
    value = unicodedata.normalize("NFKC", value).strip()
    if value in time_zones():
        return value
    zone = zones_by_city().get(value.casefold().replace(" ", "_"))
    if zone is None:
        raise DomainError("VALIDATION_FAILED", "Choose a time zone from the list.", field)
    return zone


def _email(value: str, field: str) -> str:
    return normalize_email(value.strip())


@cache
def time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


# The areas of the zones named after a city; the others (Etc/GMT+1, US/Eastern) are not.
_AREAS = ("Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe")
_AREAS += ("Indian", "Pacific")


@cache
def zones_by_city() -> dict[str, str]:
    """Each zone under its full name and its city, both case-folded: "berlin" and
    "europe/berlin" are Europe/Berlin. A city two zones share (America/Louisville and
    America/Kentucky/Louisville) goes to the shorter name."""
    found: dict[str, str] = {}
    for zone in sorted(time_zones(), key=lambda name: (len(name), name)):
        found.setdefault(zone.casefold(), zone)
        area, _, city = zone.rpartition("/")
        if area.split("/")[0] in _AREAS:
            found.setdefault(city.casefold(), zone)
    return found
