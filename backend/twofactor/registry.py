"""Every kind of second factor, one line each; the order is the order offered to users."""

from __future__ import annotations

from backend.notifications.email import Mailer
from backend.notifications.sms import SmsSender
from backend.twofactor.email_code.strategy import CodeByEmail
from backend.twofactor.passkey.ceremonies import RelyingParty
from backend.twofactor.passkey.strategy import PASSKEY, Passkeys
from backend.twofactor.recovery_codes.strategy import RecoveryCodes
from backend.twofactor.secrets_box import SecretBox
from backend.twofactor.sms_code.strategy import CodeBySms
from backend.twofactor.strategy import Strategy
from backend.twofactor.totp.strategy import AuthenticatorApp

TOTP, EMAIL, SMS, RECOVERY_CODE = "totp", "email", "sms", "recovery_code"


def strategies(
    box: SecretBox,
    mailer: Mailer,
    sms: SmsSender,
    secret_key: str,
    issuer: str,
    public_url: str,
) -> dict[str, Strategy]:
    return {
        TOTP: AuthenticatorApp(box, issuer),
        EMAIL: CodeByEmail(mailer, secret_key),
        SMS: CodeBySms(sms, secret_key),
        PASSKEY: Passkeys(RelyingParty.for_public_url(public_url, issuer), secret_key),
        RECOVERY_CODE: RecoveryCodes(secret_key),
    }
