"""Re-authentication at the API edge: `reauthenticate`, and the inline proof of sensitive changes.

A sensitive mutation may carry its proof inline (`password`, and `code` with two-factor
authentication on). A second factor's proof is parsed here, once (`second_factor_proof`):
a typed code from `code` (or its old name `otp`), a passkey's assertion from `credential`.
`apply_inline_proof` applies it before the resolver calls the use
case, exactly as `reauthenticate` would: the use case then asks only the session's stamp,
to which the proof was added (backend/auth/reauthentication.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from backend.api.context import Context
from backend.api.engine.input_guard import guard_inputs
from backend.api.errors import UserError
from backend.auth import reauthentication
from backend.auth.factors import proof as proofs
from backend.kernel.errors import DomainError

AFTER_REAUTH = "Not needed after a recent reauthenticate."
OTP_ALIAS = "Use code: the same field under the name every input uses."


def otp_alias() -> Any:
    """The round-one name of `code`, kept so that older clients keep working."""
    return strawberry.field(default=None, deprecation_reason=OTP_ALIAS)


async def apply_inline_proof(
    context: Context,
    input: object | None,
    *,
    proof_field: str = "password",
    allow_recovery_code: bool = True,
) -> None:
    """Add the input's inline proof to the session's stamp, as `reauthenticate` would.

    Nothing to do when the input carries none. The stamp only gains: a session whose
    stamp covers the change is never refused because the request also carries a
    password. A raised stamp gets the session a fresh id, and the response its cookie.
    `allow_recovery_code=False` where the change would refuse a recovery code anyway: it
    is then not spent (INVALID_OTP, as before).
    """
    password = _given(getattr(input, proof_field, None))
    proof = second_factor_proof(input)
    if not password and proof is None:
        return
    user = context.require_viewer()
    session = context.identity.session
    token = await reauthentication.prove(
        context.services,
        user,
        session,
        context.client,
        password=password,
        proof=proof,
        allow_recovery_code=allow_recovery_code,
        proof_field=proof_field,
    )
    if session is not None and token is not None:
        context.start_session(user, session, token)


def second_factor_proof(input: object | None) -> proofs.Proof | None:
    """The second factor's proof an input carries, parsed: None when it carries none.

    `credential` holds a passkey's assertion (VALIDATION_FAILED when it is none), `code` a
    typed code; given both, the assertion counts. An assertion sent in `code` is only a
    wrong typed code: no factor reads JSON from there.
    """
    code, code_field = typed_code(input)
    credential = _given(getattr(input, "credential", None))
    return proofs.given(code, credential, code_field=code_field)


def typed_code(input: object | None) -> tuple[str | None, str]:
    """The typed second-factor code of an input, and the field it came in.

    `otp` is the deprecated name of `code`; given both, they must agree.
    """
    code = _given(getattr(input, "code", None))
    otp = _given(getattr(input, "otp", None))
    if code and otp and code.strip() != otp.strip():
        raise DomainError(
            "VALIDATION_FAILED", "Give the code once: otp is another name for code.", "otp"
        )
    if otp and not code:
        return otp, "otp"
    return code, "code"


def _given(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@strawberry.input
class ReauthenticateInput:
    password: str
    code: str | None = strawberry.field(
        default=None,
        description="With two-factor authentication on: a current code or a recovery code.",
    )
    credential: str | None = strawberry.field(
        default=None,
        description="Instead of a code: a passkey's assertion for the options of "
        "startPasskeyReauthentication (the browser's PublicKeyCredential.toJSON()).",
    )


@strawberry.type
class ReauthenticatePayload:
    reauthenticated_until: datetime | None = strawberry.field(
        default=None, description="Sensitive changes need no password until then."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class StartPasskeyReauthenticationPayload:
    options: str | None = strawberry.field(
        default=None,
        description="PublicKeyCredentialRequestOptionsJSON for the account's passkeys.",
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@guard_inputs
@strawberry.type
class ReauthenticationMutations:
    @strawberry.mutation(
        description="Options to answer reauthenticate with a passkey instead of a code."
    )
    async def start_passkey_reauthentication(
        self, info: Info[Context, None]
    ) -> StartPasskeyReauthenticationPayload:
        context = info.context
        options = await reauthentication.passkey_challenge(
            context.services, context.require_viewer(), context.identity.session
        )
        return StartPasskeyReauthenticationPayload(options=options)

    @strawberry.mutation(
        description="Re-authenticate this session: the password, and a code with 2FA on. "
        "Only a signed-in session can; never a bearer token."
    )
    async def reauthenticate(
        self, info: Info[Context, None], input: ReauthenticateInput
    ) -> ReauthenticatePayload:
        context = info.context
        user = context.require_viewer()
        session = context.identity.session
        until, token = await reauthentication.reauthenticate(
            context.services,
            user,
            session,
            context.client,
            password=input.password,
            proof=second_factor_proof(input),
        )
        if session is not None and token:
            context.start_session(user, session, token)
        return ReauthenticatePayload(reauthenticated_until=until)
