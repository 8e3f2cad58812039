"""Security events in words, for the account page and the API."""

from collections.abc import Mapping
from typing import Any

DESCRIPTIONS = {
    "sign_in.succeeded": "Signed in",
    "sign_in.failed": "Failed sign-in (wrong password)",
    "sign_in.password_accepted": "Password accepted, second factor asked",
    "sign_in.refused_locked": "Sign-in refused: the account is locked",
    "account.locked": "Account locked after too many failed sign-ins",
    "password.reset_requested": "Password reset link sent",
    "password.reset": "Password reset with an emailed link",
    "account.secured": "Account secured (\"This wasn't me\"): signed out everywhere, "
    "tokens and API credentials deleted",
    "sign_out": "Signed out",
    "second_factor.failed": "Wrong two-factor code",
    "recovery_code.used": "Recovery code used",
    "twofactor.enabled": "Two-factor authentication turned on",
    "twofactor.disabled": "Two-factor authentication turned off",
    "twofactor.factor_added": "Second factor added",
    "twofactor.factor_removed": "Second factor removed",
    "passkey.added": "Passkey added",
    "passkey.add_failed": "Passkey not added (the browser's answer was refused)",
    "passkey.renamed": "Passkey renamed",
    "sign_in.passkey_refused": "Failed sign-in with a passkey",
    "twofactor.policy_changed": "Two-factor policy changed",
    "twofactor.preferred_changed": "Preferred second factor changed",
    "twofactor.reset_by_operator": "Two-factor authentication reset by an administrator",
    "recovery_codes.regenerated": "New recovery codes generated",
    "token.issued": "Token issued",
    "token.deleted": "Token deleted",
    "token.regenerated": "Token regenerated",
    "token.exchange_refused": "Deleted or expired token used",
    "api_credentials.generated": "API credentials generated",
    "api_credentials.removed": "API credentials removed",
    "password.changed": "Password changed",
    "password.change.failed": "Failed password change (wrong current password)",
    "account.updated": "Account details changed",
    "email.change_requested": "Email change requested",
    "email.changed": "Email address changed",
    "email.change_failed": "Wrong email confirmation code",
    "group.joined": "Joined a group",
    "group.left": "Left a group",
    "group.member_added": "Added to a group by an administrator",
    "group.member_removed": "Removed from a group by an administrator",
    "session.revoked": "Session signed out",
    "sessions.signed_out_others": "Other sessions signed out",
    "reauthenticated": "Access confirmed",
    "reauthenticate.failed": "Failed access confirmation (wrong password)",
    "session.revoke.failed": "Failed session sign-out (wrong password)",
    "sessions.sign_out_others.failed": "Failed sign-out of other sessions (wrong password)",
}


def describe(
    kind: str,
    details: Mapping[str, Any] | None = None,
    factor_names: Mapping[str, str] | None = None,
) -> str:
    """The event in words, naming what it was about (token, factor, group, device) when known.

    `factor_names`: a factor kind's stored value to its name in words, from the registry.
    """
    if kind.endswith(".failed") and kind not in DESCRIPTIONS:
        text = "Failed confirmation of a sensitive change (wrong password)"
    else:
        text = DESCRIPTIONS.get(kind, kind.replace("_", " ").replace(".", ": ").capitalize())
    subject = _subject(kind, details or {}, factor_names or {})
    return f"{text}: {subject}" if subject else text


def _subject(kind: str, details: Mapping[str, Any], factor_names: Mapping[str, str]) -> str:
    if kind.startswith("token.") and details.get("name"):
        return f"\u201c{details['name']}\u201d"
    method = str(details.get("method") or "")
    if method in factor_names:
        factor = factor_names[method]
        name = details.get("name")
        return f"{name} ({factor})" if name and name != factor else factor
    if details.get("group"):
        return f"group \u201c{details['group']}\u201d"
    if details.get("client_id"):
        return f"client ID {details['client_id']}"
    if details.get("device"):
        return str(details["device"])
    return ""
