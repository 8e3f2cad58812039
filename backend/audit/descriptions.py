"""Security events in words, for the account page and the API."""

from collections.abc import Mapping
from typing import Any

from backend.kernel.i18n import DEFAULT, N_, gettext, translate

DESCRIPTIONS = {
    "sign_in.succeeded": N_("Signed in"),
    "sign_in.failed": N_("Failed sign-in (wrong password)"),
    "sign_in.password_accepted": N_("Password accepted, second factor asked"),
    "sign_in.refused_locked": N_("Sign-in refused: the account is locked"),
    "account.locked": N_("Account locked after too many failed sign-ins"),
    "password.reset_requested": N_("Password reset link sent"),
    "password.reset": N_("Password reset with an emailed link"),
    "account.secured": N_(
        'Account secured ("This wasn\'t me"): signed out everywhere, '
        "tokens and API credentials deleted"
    ),
    "sign_out": N_("Signed out"),
    "second_factor.failed": N_("Wrong two-factor code"),
    "recovery_code.used": N_("Recovery code used"),
    "twofactor.enabled": N_("Two-factor authentication turned on"),
    "twofactor.disabled": N_("Two-factor authentication turned off"),
    "twofactor.factor_added": N_("Second factor added"),
    "twofactor.factor_removed": N_("Second factor removed"),
    "passkey.added": N_("Passkey added"),
    "passkey.add_failed": N_("Passkey not added (the browser's answer was refused)"),
    "passkey.renamed": N_("Passkey renamed"),
    "sign_in.passkey_refused": N_("Failed sign-in with a passkey"),
    "twofactor.policy_changed": N_("Two-factor policy changed"),
    "twofactor.preferred_changed": N_("Preferred second factor changed"),
    "twofactor.reset_by_operator": N_("Two-factor authentication reset by an administrator"),
    "recovery_codes.regenerated": N_("New recovery codes generated"),
    "token.issued": N_("Token issued"),
    "token.deleted": N_("Token deleted"),
    "token.regenerated": N_("Token regenerated"),
    "token.exchange_refused": N_("Deleted or expired token used"),
    "api_credentials.generated": N_("API credentials generated"),
    "api_credentials.removed": N_("API credentials removed"),
    "password.changed": N_("Password changed"),
    "password.change.failed": N_("Failed password change (wrong current password)"),
    "account.updated": N_("Account details changed"),
    "email.change_requested": N_("Email change requested"),
    "email.changed": N_("Email address changed"),
    "email.change_failed": N_("Wrong email confirmation code"),
    "email.change_code_resent": N_("New email confirmation code sent"),
    "email.change_cancelled": N_("Email change cancelled"),
    "group.joined": N_("Joined a group"),
    "group.left": N_("Left a group"),
    "group.member_added": N_("Added to a group by an administrator"),
    "group.member_removed": N_("Removed from a group by an administrator"),
    "session.revoked": N_("Session signed out"),
    "sessions.signed_out_others": N_("Other sessions signed out"),
    "reauthenticated": N_("Re-authenticated (confirmed it was you)"),
    "reauthenticate.failed": N_("Failed access confirmation (wrong password)"),
    "session.revoke.failed": N_("Failed session sign-out (wrong password)"),
    "sessions.sign_out_others.failed": N_("Failed sign-out of other sessions (wrong password)"),
    "sign_in.refused_disabled": N_("Sign-in refused: the account is disabled"),
    "sign_in.refused_deletion_scheduled": N_(
        "Sign-in refused: the account's deletion is scheduled"
    ),
    "account.exported": N_("Account data exported"),
    "account.deletion_scheduled": N_(
        "Account deletion scheduled: signed out everywhere, tokens and API credentials deleted"
    ),
    "account.deletion_cancelled": N_("Account deletion cancelled"),
    "account.deleted": N_("Account deleted"),
}

# What an administrator did to the account, naming the administrator (details'
# "administrator"; empty for an operator's command on the server).
BY_ADMINISTRATOR = {
    "administrator.created": N_("An administrator ({administrator}) created your account"),
    "administrator.updated": N_("An administrator ({administrator}) changed your account details"),
    "administrator.made_administrator": N_(
        "An administrator ({administrator}) made you an administrator"
    ),
    "administrator.made_user": N_(
        "An administrator ({administrator}) removed your administrator rights"
    ),
    "administrator.disabled": N_("An administrator ({administrator}) disabled your account"),
    "administrator.enabled": N_("An administrator ({administrator}) enabled your account"),
    "administrator.unlocked": N_("An administrator ({administrator}) unlocked your account"),
    "administrator.two_factor_reset": N_(
        "An administrator ({administrator}) turned off your two-factor authentication"
    ),
    "administrator.password_reset_link_sent": N_(
        "An administrator ({administrator}) sent you a link to choose a new password"
    ),
    "administrator.sessions_ended": N_(
        "An administrator ({administrator}) signed out all your sessions"
    ),
    "administrator.group_added": N_("An administrator ({administrator}) added you to a group"),
    "administrator.group_removed": N_(
        "An administrator ({administrator}) removed you from a group"
    ),
}
# Who acted, when no administrator's account did: a command on the server.
COMMAND_LINE = N_("the command line")

# The operator log in words: `{administrator}` did it to `{user}` (or to `{group}`).
OPERATOR_ACTIONS = {
    "user.created": N_("{administrator} created the account {user}"),
    "user.updated": N_("{administrator} changed the account details of {user}"),
    "user.made_administrator": N_("{administrator} made {user} an administrator"),
    "user.made_user": N_("{administrator} removed the administrator rights of {user}"),
    "user.disabled": N_("{administrator} disabled {user}"),
    "user.enabled": N_("{administrator} enabled {user}"),
    "user.unlocked": N_("{administrator} unlocked {user}"),
    "user.two_factor_reset": N_(
        "{administrator} turned off the two-factor authentication of {user}"
    ),
    "user.password_reset_link_sent": N_(
        "{administrator} sent {user} a link to choose a new password"
    ),
    "user.sessions_ended": N_("{administrator} signed out every session of {user}"),
    "user.deleted": N_("{administrator} deleted the account {user}"),
    "group.member_added": N_("{administrator} added {user} to the group {group}"),
    "group.member_removed": N_("{administrator} removed {user} from the group {group}"),
    "group.created": N_("{administrator} created the group {group}"),
    "group.updated": N_("{administrator} changed the group {group}"),
}


def describe_operator_action(
    action: str,
    administrator: str,
    user: str,
    details: Mapping[str, Any] | None = None,
    language: str = DEFAULT,
) -> str:
    """An operator log entry in words, in `language`."""
    template = OPERATOR_ACTIONS.get(action)
    who = administrator or gettext(language, COMMAND_LINE)
    if template is None:
        return f"{who}: {action} {user}".strip()
    group = str((details or {}).get("group", ""))
    return translate(language, template, {"administrator": who, "user": user, "group": group})


def describe(
    kind: str,
    details: Mapping[str, Any] | None = None,
    factor_names: Mapping[str, str] | None = None,
    language: str = DEFAULT,
) -> str:
    """The event in words, naming what it was about (token, factor, group, device) when known.

    `factor_names`: a factor kind's stored value to its name in words, from the registry.
    """
    details = details or {}
    if kind in BY_ADMINISTRATOR:
        who = str(details.get("administrator") or "") or gettext(language, COMMAND_LINE)
        text = translate(language, BY_ADMINISTRATOR[kind], {"administrator": who})
    elif kind.endswith(".failed") and kind not in DESCRIPTIONS:
        text = gettext(language, N_("Failed confirmation of a sensitive change (wrong password)"))
    elif kind in DESCRIPTIONS:
        text = gettext(language, DESCRIPTIONS[kind])
    else:
        text = kind.replace("_", " ").replace(".", ": ").capitalize()
    subject = _subject(kind, details, factor_names or {}, language)
    if not subject:
        return text
    return translate(language, N_("{event}: {subject}"), {"event": text, "subject": subject})


def _subject(
    kind: str, details: Mapping[str, Any], factor_names: Mapping[str, str], language: str
) -> str:
    if kind.startswith("token.") and details.get("name"):
        return translate(language, N_("\u201c{name}\u201d"), {"name": details["name"]})
    method = str(details.get("method") or "")
    if method in factor_names:
        factor = gettext(language, factor_names[method])
        name = details.get("name")
        if not name or name == factor_names[method]:
            return factor
        return translate(language, N_("{name} ({kind})"), {"name": name, "kind": factor})
    if details.get("group"):
        return translate(language, N_("group \u201c{group}\u201d"), {"group": details["group"]})
    if details.get("client_id"):
        return translate(language, N_("client ID {id}"), {"id": details["client_id"]})
    if details.get("device"):
        return str(details["device"])
    return ""
