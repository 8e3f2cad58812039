"""Group membership: users join and leave self-service groups; operators manage the rest."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from backend.accounts.models import Group, User
from backend.audit.service import record
from backend.events.emit import emit
from backend.infra import hot_sql
from backend.kernel.client_info import ClientInfo
from backend.kernel.errors import DomainError, NotFound
from backend.kernel.text import can_name, clean_name, require_storable

# $1 the user's id; without building the ORM's many-to-many query, as introspection and
# ID tokens ask on every request.
_NAMES = """
SELECT g.name FROM memberships m JOIN "groups" g ON g.id = m.group_id WHERE m.users_id = $1
"""


async def of(user: User) -> list[Group]:
    return await user.groups.all().order_by("name")


async def names_of(user_id: int) -> tuple[str, ...]:
    """The names of the user's groups, in code point order (as on every database)."""
    return tuple(sorted(row["name"] for row in await hot_sql.fetch(Group, _NAMES, [user_id])))


async def joinable_by(user_id: int) -> list[Group]:
    member_of = await Group.filter(members__id=user_id).values_list("id", flat=True)
    return await Group.filter(self_service=True).exclude(id__in=member_of).order_by("name")


async def join(user: User, name: str, client: ClientInfo) -> Group:
    group = await Group.get_or_none(name=name, self_service=True) if _can_be(name) else None
    if group is None:
        raise NotFound("name")
    if not await group.members.filter(id=user.id).exists():
        async with in_transaction():
            await group.members.add(user)
            await record("group.joined", user=user, client=client, group=group.name)
            await emit("group.member_added", user=user, group={"name": group.name})
    return group


async def leave(user: User, name: str, client: ClientInfo) -> Group:
    group = (
        await Group.get_or_none(name=name, self_service=True, members__id=user.id)
        if _can_be(name)
        else None
    )
    if group is None:
        raise NotFound("name")
    async with in_transaction():
        await group.members.remove(user)
        await record("group.left", user=user, client=client, group=group.name)
        await emit("group.member_removed", user=user, group={"name": group.name})
    return group


async def create(name: str, *, description: str = "", self_service: bool = False) -> Group:
    name = clean_name(require_storable(name, "name"), "name")
    if not 1 <= len(name) <= 100:
        raise DomainError("VALIDATION_FAILED", "A group name is 1 to 100 characters.", "name")
    try:
        async with in_transaction():
            return await Group.create(name=name, description=description, self_service=self_service)
    except IntegrityError:
        raise DomainError(
            "CONFLICT", "A group named {name} exists already.", "name", name=name
        ) from None


async def add_member(group_name: str, user: User) -> None:
    group = await _group(group_name)
    async with in_transaction():
        await group.members.add(user)
        await record("group.member_added", user=user, group=group.name)
        await emit("group.member_added", user=user, group={"name": group.name})


async def remove_member(group_name: str, user: User) -> None:
    group = await _group(group_name)
    if not await group.members.filter(id=user.id).exists():
        raise DomainError(
            "NOT_FOUND", "{user} is not in {group}.", user=user.username, group=group.name
        )
    async with in_transaction():
        await group.members.remove(user)
        await record("group.member_removed", user=user, group=group.name)
        await emit("group.member_removed", user=user, group={"name": group.name})


async def _group(name: str) -> Group:
    group = await Group.get_or_none(name=name) if _can_be(name) else None
    if group is None:
        raise DomainError("NOT_FOUND", "There is no group named {name}.", "name", name=name)
    return group


def _can_be(name: str) -> bool:
    """A name no group can have (too long, NUL...) is simply not found."""
    return can_name(Group, "name", name)
