"""Who is on the other end of a request, as far as the domain needs to know."""

import dataclasses


@dataclasses.dataclass(frozen=True)
class ClientInfo:
    ip_address: str = ""
    user_agent: str = ""

    def __post_init__(self) -> None:
        # Bounded to the columns that store them.
        object.__setattr__(self, "ip_address", self.ip_address[:45])
        object.__setattr__(self, "user_agent", self.user_agent[:512])


def describe_user_agent(user_agent: str) -> str:
    """Browser and system in words, e.g. "Firefox on Windows"."""
    from ua_parser import parse

    parsed = parse(user_agent[:512]) if user_agent else None
    browser = parsed.user_agent.family if parsed and parsed.user_agent else ""
    system = parsed.os.family if parsed and parsed.os else ""
    if not browser or browser == "Other":
        return "Unknown browser"
    return f"{browser} on {system}" if system and system != "Other" else browser
