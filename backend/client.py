"""Who is on the other end of a request, as far as the domain needs to know."""

import dataclasses

from backend import i18n
from backend.i18n import N_


@dataclasses.dataclass(frozen=True)
class ClientInfo:
    ip_address: str = ""
    user_agent: str = ""

    def __post_init__(self) -> None:
        # Bounded to the columns that store them.
        object.__setattr__(self, "ip_address", self.ip_address[:45])
        object.__setattr__(self, "user_agent", self.user_agent[:512])


def describe_user_agent(user_agent: str, language: str = i18n.DEFAULT) -> str:
    """Browser and system in words, e.g. "Firefox on Windows"."""
    from ua_parser import parse

    parsed = parse(user_agent[:512]) if user_agent else None
    browser = parsed.user_agent.family if parsed and parsed.user_agent else ""
    system = parsed.os.family if parsed and parsed.os else ""
    if not browser or browser == "Other":
        return i18n.gettext(language, N_("Unknown browser"))
    if not system or system == "Other":
        return browser
    words = N_("{browser} on {system}")
    return i18n.translate(language, words, {"browser": browser, "system": system})
