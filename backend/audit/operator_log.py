"""The operator log: every administrator's action (and an operator's command), for
administrators to read (`admin { log }`). Written in the transaction of the action."""

from __future__ import annotations

from typing import Any, Protocol

from backend.audit.models import OperatorAction
from backend.kernel.client_info import ClientInfo


class Named(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def username(self) -> str: ...


async def write(
    action: str,
    *,
    administrator: Named | None,
    user: Named | None = None,
    client: ClientInfo | None = None,
    **details: Any,
) -> OperatorAction:
    """`administrator` None: an operator's command. `details` never hold a secret."""
    return await OperatorAction.create(
        action=action,
        administrator_id=administrator.id if administrator else None,
        administrator_name=administrator.username if administrator else "",
        user_id=user.id if user else None,
        username=user.username if user else "",
        ip_address=(client or ClientInfo()).ip_address,
        details=details,
    )


async def page(*, first: int, before_id: int | None) -> list[OperatorAction]:
    """Up to `first` + 1 entries older than `before_id`, newest first (the extra one tells
    whether there is a next page)."""
    query = OperatorAction.all()
    if before_id is not None:
        query = query.filter(id__lt=before_id)
    return await query.order_by("-id").limit(first + 1)
