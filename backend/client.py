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
