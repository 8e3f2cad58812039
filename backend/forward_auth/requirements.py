"""What a protected location demands beyond being signed in: `?group=` and `?scope=`.

Groups: membership of any one of the named groups (a location for "staff or admins").
Scopes: every named scope, since each names something the application will let the token
do. Scopes limit tokens only: a browser session is the person, whom no scope limits (as
on the API), so it meets any scope requirement.
"""

from __future__ import annotations

import dataclasses
import enum

from backend.forward_auth.callers import Caller


class Unmet(enum.Enum):
    GROUP = "group"
    SCOPE = "scope"


@dataclasses.dataclass(frozen=True)
class Requirements:
    any_of_groups: frozenset[str] = frozenset()
    all_of_scopes: frozenset[str] = frozenset()

    def unmet_by(self, caller: Caller) -> Unmet | None:
        if self.any_of_groups and self.any_of_groups.isdisjoint(caller.groups):
            return Unmet.GROUP
        if caller.scopes is not None and not self.all_of_scopes <= set(caller.scopes):
            return Unmet.SCOPE
        return None
