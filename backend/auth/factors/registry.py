"""Every kind of second factor, one line each; the order is the order offered to users.

Adding a kind: its package with a Strategy (strategy.py), one line in KINDS, and its template
web/templates/factors/<kind>.html (docs/architecture.md). No module outside the kinds'
packages imports a kind's strategy: they come from here (tests/test_factor_kinds.py).
"""

from __future__ import annotations

from backend.auth.factors.email_code.strategy import CodeByEmail
from backend.auth.factors.passkey.strategy import Passkeys
from backend.auth.factors.recovery_codes.strategy import RecoveryCodes
from backend.auth.factors.sms_code.strategy import CodeBySms
from backend.auth.factors.strategy import Strategy, Tools
from backend.auth.factors.totp.strategy import AuthenticatorApp

KINDS: tuple[type[Strategy], ...] = (
    Passkeys,
    AuthenticatorApp,
    CodeByEmail,
    CodeBySms,
    RecoveryCodes,
)

ORDER = [kind.kind for kind in KINDS]
BY_KIND = {kind.kind: kind for kind in KINDS}
BY_API_NAME = {kind.api_name: kind for kind in KINDS}
# The kinds that stand in when the others are out of reach (recovery codes).
BACKUP = {kind.kind for kind in KINDS if kind.backup}
# Recovery codes have features of their own (made with the first factor, regenerated).
RECOVERY_CODE = RecoveryCodes.kind
# Passkeys too (their own registration, passwordless sign-in, a limit of their own), and
# sign-in and re-authentication hand out their request options.
PASSKEY = Passkeys.kind


def sent_to(field: str) -> list[str]:
    """The kinds whose codes go to the account's `field` (such as its mobile phone)."""
    return [kind.kind for kind in KINDS if kind.redirected_by and kind.redirected_by[1] == field]


def is_backup(kind: str) -> bool:
    return kind in BACKUP


def strategies(tools: Tools) -> dict[str, Strategy]:
    return {kind.kind: kind.build(tools) for kind in KINDS}
