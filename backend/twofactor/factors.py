"""One interface for every second factor; sign-in, step-up and setup call only this.

A factor may `send` something (a code by email or SMS) and must `check` a code the user
typed for a purpose: a sign-in challenge, a setup, or a sensitive change.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

from backend.accounts.models import User
from backend.errors import RateLimited
from backend.notifications.email import Email, Mailer
from backend.notifications.sms import SmsSender
from backend.throttle import service as throttle
from backend.throttle.keys import sms_account_key, sms_number_key
from backend.twofactor import codes, totp
from backend.twofactor.models import TwoFactor
from backend.twofactor.secrets_box import SecretBox

TOTP, EMAIL, SMS = "totp", "email", "sms"


@dataclasses.dataclass(frozen=True)
class Check:
    accepted: bool
    reason: str = ""  # for the security log only: the user sees one answer for all


class SecondFactor(Protocol):
    method: str

    async def send(self, user: User, purpose: str) -> None: ...

    async def check(self, user: User, secret: str | None, code: str, purpose: str) -> Check: ...


class AuthenticatorApp:
    method = TOTP

    def __init__(self, box: SecretBox) -> None:
        self.box = box

    async def send(self, user: User, purpose: str) -> None:
        return None  # the app shows the code; nothing to send

    async def check(self, user: User, secret: str | None, code: str, purpose: str) -> Check:
        """`secret` is the sealed TOTP secret of the enabled factor."""
        plain = self.box.open(secret or "", bound_to=str(user.id))
        timecode = totp.matching_timecode(plain, code)
        if timecode is None:
            return Check(False, "wrong")
        two_factor = await TwoFactor.get(user=user)
        if not await totp.consume(two_factor, plain, code):
            return Check(False, "replayed")
        return Check(True)


class CodeByEmail:
    method = EMAIL

    def __init__(self, mailer: Mailer, secret_key: str) -> None:
        self.mailer = mailer
        self.secret_key = secret_key

    async def send(self, user: User, purpose: str) -> None:
        code = await codes.issue(user, purpose, self.secret_key)
        await self.mailer.send(
            Email(
                to=user.email,
                subject="Your Latchkey code",
                body=f"Your Latchkey code is {code}. It expires in 10 minutes.\n\n"
                "If you did not just try to sign in or change your account, change your "
                "password: someone else knows it.",
            )
        )

    async def check(self, user: User, secret: str | None, code: str, purpose: str) -> Check:
        accepted = await codes.consume(user, purpose, code, self.secret_key)
        return Check(accepted, "" if accepted else "wrong, expired or used")


class CodeBySms:
    method = SMS

    def __init__(self, sms: SmsSender, secret_key: str) -> None:
        self.sms = sms
        self.secret_key = secret_key

    async def send(self, user: User, purpose: str) -> None:
        """Raises RateLimited after 5 messages to the account or the number in an hour."""
        number = user.mobile_phone or ""
        limits = [
            (sms_account_key(user), throttle.SMS_SENT),
            (sms_number_key(number), throttle.SMS_SENT),
        ]
        await throttle.reserve_all(limits)  # counts sends, reserved before sending
        try:
            code = await codes.issue(user, purpose, self.secret_key)
        except RateLimited:  # too soon for another code: nothing is sent
            for key, policy in limits:
                await throttle.refund(key, policy)
            raise
        await self.sms.send(number, f"Your Latchkey code is {code}.")

    async def check(self, user: User, secret: str | None, code: str, purpose: str) -> Check:
        accepted = await codes.consume(user, purpose, code, self.secret_key)
        return Check(accepted, "" if accepted else "wrong, expired or used")


def factors(
    box: SecretBox, mailer: Mailer, sms: SmsSender, secret_key: str
) -> dict[str, SecondFactor]:
    return {
        TOTP: AuthenticatorApp(box),
        EMAIL: CodeByEmail(mailer, secret_key),
        SMS: CodeBySms(sms, secret_key),
    }
