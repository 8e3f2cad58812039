"""Codes by SMS; sends are limited per account and per number."""

from __future__ import annotations

from backend.accounts.models import User
from backend.auth.factors import codes
from backend.auth.factors.code_by_message import CodeByMessage
from backend.auth.factors.strategy import Tools
from backend.auth.throttle import service as throttle
from backend.auth.throttle.keys import sms_account_key, sms_number_key
from backend.kernel import i18n
from backend.kernel.errors import DomainError, RateLimited
from backend.kernel.i18n import N_
from backend.notifications.sms import SmsSender


class CodeBySms(CodeByMessage):
    kind = "sms"
    api_name = "SMS"
    default_name = N_("Code by SMS")
    redirected_by = ("account.updated", "mobile_phone")
    amr = "sms"

    def __init__(self, sms: SmsSender, secret_key: str) -> None:
        super().__init__(secret_key)
        self.sms = sms

    @classmethod
    def build(cls, tools: Tools) -> CodeBySms:
        return cls(tools.sms, tools.secret_key)

    def cannot_set_up(self, user: User) -> DomainError | None:
        if user.mobile_phone:
            return None
        return DomainError(
            "PHONE_REQUIRED_FOR_SMS", "Add a mobile phone number to your account first.", "method"
        )

    async def begin_challenge(self, user: User, purpose: str) -> None:
        """Raises RateLimited after 5 messages to the account or the number in an hour."""
        number = user.mobile_phone or ""
        limits = [
            (sms_account_key(user), throttle.SMS_SENT),
            (sms_number_key(number), throttle.SMS_SENT),
        ]
        await throttle.reserve_all(limits)  # counts sends, reserved before sending
        try:
            code = await codes.issue(user, self._purpose(purpose), self.secret_key)
        except RateLimited:  # too soon for another code: nothing is sent
            for key, policy in limits:
                await throttle.refund(key, policy)
            raise
        await self.deliver(user, code)

    async def deliver(self, user: User, code: str) -> None:
        text = i18n.translate(
            i18n.language_of(user), N_("Your Latchkey code is {code}."), {"code": code}
        )
        await self.sms.send(user.mobile_phone or "", text)
