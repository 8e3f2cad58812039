"""A passkey as the API shows it."""

from __future__ import annotations

from datetime import datetime

import strawberry

from backend.account_settings import passkeys
from backend.auth.factors import models


@strawberry.type(description="A passkey of the account.")
class Passkey:
    id: strawberry.ID
    name: str
    created_at: datetime
    last_used_at: datetime | None

    @classmethod
    def from_model(cls, factor: models.Authenticator) -> Passkey:
        return cls(
            id=strawberry.ID(str(factor.id)),
            name=factor.name,
            created_at=factor.created_at,
            last_used_at=factor.last_used_at,
        )


async def viewer_passkeys(user_id: int) -> list[Passkey]:
    return [Passkey.from_model(factor) for factor in await passkeys.list_for(user_id)]
