"""The account's end: exporting its data, scheduling its deletion, and cancelling that."""

from __future__ import annotations

import json
from datetime import datetime

import strawberry
from strawberry.types import Info

from backend.api.context import Context
from backend.api.engine.input_guard import guard_inputs
from backend.api.errors import UserError
from backend.api.reauthentication import AFTER_REAUTH, apply_inline_proof
from backend.lifecycle import deletion, export

CODE = "A current code of the second factor, with two-factor authentication on."


@strawberry.input
class ExportAccountDataInput:
    password: str | None = strawberry.field(default=None, description=AFTER_REAUTH)
    code: str | None = strawberry.field(default=None, description=CODE)


@strawberry.type
class ExportAccountDataPayload:
    data: str | None = strawberry.field(
        default=None,
        description="A JSON document (format latchkey-account-export, version 1) with "
        "everything Latchkey holds about the account; never a secret, hash or code.",
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ScheduleAccountDeletionInput:
    confirmation: str = strawberry.field(description="The account's username, typed again.")
    password: str | None = strawberry.field(default=None, description=AFTER_REAUTH)
    code: str | None = strawberry.field(default=None, description=CODE)


@strawberry.type
class ScheduleAccountDeletionPayload:
    deletion_scheduled_at: datetime | None = strawberry.field(
        default=None,
        description="When the account will be deleted (now when it was deleted at once).",
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class CancelAccountDeletionInput:
    token: str = strawberry.field(description="The token of the emailed cancel link.")


@strawberry.type
class CancelAccountDeletionPayload:
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@guard_inputs
@strawberry.type
class LifecycleMutations:
    @strawberry.mutation(
        description="Everything Latchkey holds about the account, as one JSON document. "
        "Needs a re-authentication."
    )
    async def export_account_data(
        self, info: Info[Context, None], input: ExportAccountDataInput
    ) -> ExportAccountDataPayload:
        context = info.context
        user = context.require_viewer()
        await apply_inline_proof(context, input)
        document = await export.export(
            context.services, user, context.identity.session, context.client
        )
        return ExportAccountDataPayload(data=json.dumps(document, ensure_ascii=False))

    @strawberry.mutation(
        description="Schedule the account's deletion (the username typed again, and a "
        "re-authentication): every session, token and credential ends at once, sign-in "
        "answers ACCOUNT_DELETION_SCHEDULED, and an email carries the link that cancels it."
    )
    async def schedule_account_deletion(
        self, info: Info[Context, None], input: ScheduleAccountDeletionInput
    ) -> ScheduleAccountDeletionPayload:
        context = info.context
        user = context.require_viewer()
        await apply_inline_proof(context, input)
        when = await deletion.schedule(
            context.services,
            user,
            context.identity.session,
            context.client,
            input.confirmation,
        )
        context.end_session()
        return ScheduleAccountDeletionPayload(deletion_scheduled_at=when)

    @strawberry.mutation(
        description="Cancel a scheduled deletion with the emailed link's token: the account "
        "may sign in again; the sessions and tokens that ended stay ended."
    )
    async def cancel_account_deletion(
        self, info: Info[Context, None], input: CancelAccountDeletionInput
    ) -> CancelAccountDeletionPayload:
        context = info.context
        await deletion.cancel(context.services, input.token, context.client)
        return CancelAccountDeletionPayload()
