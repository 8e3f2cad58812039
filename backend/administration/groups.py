"""Groups as administrators manage them: every group, self-service or not.

Membership is changed with the account (updateUser's `groups`, createUser's); here are
the groups themselves: listed with their sizes, created, and changed (description,
whether members may join and leave them themselves).
"""

from __future__ import annotations

import dataclasses

from tortoise.functions import Count
from tortoise.transactions import in_transaction

from backend.accounts import groups
from backend.accounts.models import Group
from backend.administration.authority import Actor, authorize
from backend.administration.telling import record_group_action
from backend.auth.services import Services
from backend.kernel.errors import DomainError, NotFound
from backend.kernel.i18n import N_
from backend.kernel.text import can_name, clean_name

MAX_DESCRIPTION = 1000


@dataclasses.dataclass(frozen=True)
class Listed:
    group: Group
    member_count: int


async def listed() -> list[Listed]:
    """Every group by name, with how many members it has (one query)."""
    rows = await Group.all().annotate(member_count=Count("members")).order_by("name")
    return [Listed(row, row.member_count) for row in rows]  # type: ignore[attr-defined]


async def named(names: list[str]) -> list[Group]:
    """The groups with these names (those that exist), by name."""
    wanted = [name for name in dict.fromkeys(names) if can_name(Group, "name", name)]
    if not wanted:
        return []
    return await Group.filter(name__in=wanted).order_by("name")


async def create(
    services: Services,
    actor: Actor,
    name: str,
    *,
    description: str = "",
    self_service: bool = False,
) -> Group:
    await authorize(services, actor, token_may=False)
    description = _description(description)
    async with in_transaction():
        group = await groups.create(name, description=description, self_service=self_service)
        await record_group_action(actor, "group.created", group.name, self_service=self_service)
    return group


async def update(
    services: Services,
    actor: Actor,
    name: str,
    *,
    description: str | None = None,
    self_service: bool | None = None,
) -> Group:
    """Change a group's description, and whether members join and leave it themselves."""
    await authorize(services, actor, token_may=False)
    group = await Group.get_or_none(name=name) if can_name(Group, "name", name) else None
    if group is None:
        raise NotFound("name")
    values: dict[str, object] = {}
    if description is not None:
        values["description"] = _description(description)
    if self_service is not None:
        values["self_service"] = self_service
    values = {key: value for key, value in values.items() if getattr(group, key) != value}
    if values:
        async with in_transaction():
            await Group.filter(id=group.id).update(**values)
            for key, value in values.items():
                setattr(group, key, value)
            await record_group_action(actor, "group.updated", group.name, fields=sorted(values))
    return group


def _description(value: str) -> str:
    lines = [clean_name(line, "description") for line in value.strip().splitlines()]
    value = "\n".join(lines)
    if len(value) > MAX_DESCRIPTION:
        raise DomainError(
            "VALIDATION_FAILED",
            N_("Use at most {count} characters."),
            "description",
            count=MAX_DESCRIPTION,
        )
    return value
