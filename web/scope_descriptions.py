"""What each OpenID Connect scope lets an application see, in words for the consent page
and the Applications page. Platform scopes carry the operator's own description."""

from __future__ import annotations

from backend.kernel.i18n import N_

STANDARD = {
    "openid": N_("Know it's you, by your account's id"),
    "profile": N_("See your name, username, time zone and language"),
    "email": N_("See your email address"),
    "phone": N_("See your mobile phone number"),
    "groups": N_("See the groups you belong to"),
    "offline_access": N_("Keep this access while you are away"),
}


def describe(name: str, platform: dict[str, str] | None = None) -> str:
    """A message id for a standard scope (the template translates it), else the platform's
    description, else the name itself."""
    return STANDARD.get(name) or (platform or {}).get(name) or name
