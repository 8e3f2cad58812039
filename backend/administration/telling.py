"""Every administrator's action is told four times: in the user's own security log ("An
administrator (name) disabled your account"), in the operator log, to the platform
(the webhook event), all in the action's transaction; and to the user by email, in their
language with a "This wasn't me" link, once it has committed."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from backend.accounts.models import User
from backend.administration.authority import Actor
from backend.audit import operator_log
from backend.audit.descriptions import COMMAND_LINE
from backend.audit.service import record
from backend.auth.services import Services
from backend.events.emit import emit
from backend.kernel.i18n import Term
from backend.notifications.notices import tell

# The security log's kind for each operator log action.
SECURITY_KINDS = {
    "user.created": "administrator.created",
    "user.updated": "administrator.updated",
    "user.made_administrator": "administrator.made_administrator",
    "user.made_user": "administrator.made_user",
    "user.disabled": "administrator.disabled",
    "user.enabled": "administrator.enabled",
    "user.unlocked": "administrator.unlocked",
    "user.two_factor_reset": "administrator.two_factor_reset",
    "user.password_reset_link_sent": "administrator.password_reset_link_sent",
    "user.sessions_ended": "administrator.sessions_ended",
    "group.member_added": "administrator.group_added",
    "group.member_removed": "administrator.group_removed",
}


@dataclasses.dataclass(frozen=True)
class Notice:
    """An email to the user: English message ids, worded in the user's language."""

    subject: str
    text: str
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)


async def record_action(
    actor: Actor,
    action: str,
    user: User,
    *,
    event: str | None = None,
    event_data: Mapping[str, Any] | None = None,
    **details: Any,
) -> None:
    """Inside the action's transaction: the user's security log, the operator log and the
    event. `details` are shown to the user and administrators: never a secret."""
    await record(
        SECURITY_KINDS[action], user=user, client=actor.client, administrator=actor.name, **details
    )
    await operator_log.write(
        action, administrator=actor.user, user=user, client=actor.client, **details
    )
    if event is not None:
        await emit(event, user=user, administrator=administrator_data(actor), **(event_data or {}))


async def record_group_action(actor: Actor, action: str, group: str, **details: Any) -> None:
    """A change of a group itself: the operator log only (no user's account changed)."""
    await operator_log.write(
        action, administrator=actor.user, client=actor.client, group=group, **details
    )


def administrator_data(actor: Actor) -> dict[str, str] | None:
    """Who acted, in an event: the administrator's id and username; null for a command."""
    if actor.user is None:
        return None
    return {"id": str(actor.user.id), "username": actor.user.username}


async def tell_user(
    services: Services, actor: Actor, user: User, notice: Notice, *, to: str | None = None
) -> None:
    """After the commit: the notice, with a "This wasn't me" link; to the account's
    address, or `to` (the old one, when the address was just changed)."""
    params = {
        "administrator": actor.name or Term(COMMAND_LINE),
        "username": user.username,
        **notice.params,
    }
    await tell(
        services.mailer, to or user.email, notice.subject, notice.text, user=user, params=params
    )
