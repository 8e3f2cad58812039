"""Who is on the other end of a request, as far as the domain needs to know."""

from __future__ import annotations

import dataclasses
import functools

from backend.kernel import i18n
from backend.kernel.i18n import N_

# The columns that store a browser's and a system's name beside the user agent.
NAME_LENGTH = 64


@dataclasses.dataclass(frozen=True)
class ClientInfo:
    ip_address: str = ""
    user_agent: str = ""

    def __post_init__(self) -> None:
        # Bounded to the columns that store them.
        object.__setattr__(self, "ip_address", self.ip_address[:45])
        object.__setattr__(self, "user_agent", self.user_agent[:512])

    @functools.cached_property
    def browser(self) -> Browser:
        """The user agent parsed, once per request, to be stored with the rows that show it:
        lists of sessions, devices and events then never parse (a page of events with as
        many different user agents cost a parse each, hundreds of milliseconds a page)."""
        return Browser.of(self.user_agent)


@dataclasses.dataclass(frozen=True)
class Browser:
    """Browser and system names as the parser gives them ("Other" when it cannot tell)."""

    name: str = ""
    system: str = ""

    @classmethod
    def of(cls, user_agent: str) -> Browser:
        if not user_agent:
            return cls()
        from ua_parser import parse

        parsed = parse(user_agent[:512])
        return cls(
            name=(parsed.user_agent.family if parsed.user_agent else "")[:NAME_LENGTH],
            system=(parsed.os.family if parsed.os else "")[:NAME_LENGTH],
        )

    def words(self, language: str = i18n.DEFAULT) -> str:
        """Browser and system in words, e.g. "Firefox on Windows"."""
        if not self.name or self.name == "Other":
            return i18n.gettext(language, N_("Unknown browser"))
        if not self.system or self.system == "Other":
            return self.name
        words = N_("{browser} on {system}")
        return i18n.translate(language, words, {"browser": self.name, "system": self.system})


def describe_user_agent(user_agent: str, language: str = i18n.DEFAULT) -> str:
    """Browser and system in words, e.g. "Firefox on Windows"."""
    return Browser.of(user_agent).words(language)
