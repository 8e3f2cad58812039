"""The account export: one JSON document with everything Latchkey holds about the user.

Versioned (`format`, `version`): a field may be added within a version, never renamed or
removed. Never a secret, hash or code: second factors and passkeys give their kinds, names
and dates; tokens and API credentials their metadata; sessions and devices what the
account pages show.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from backend.accounts.models import User
from backend.audit.models import SecurityEvent
from backend.audit.service import record
from backend.auth import reauthentication
from backend.auth.factors.models import Authenticator, TrustedDevice, TwoFactor
from backend.auth.factors.registry import PASSKEY
from backend.auth.services import Services
from backend.auth.sessions.models import Session
from backend.kernel import clock
from backend.kernel.client_info import ClientInfo
from backend.oidc.models import ApplicationAccess
from backend.tokens.models import ApiCredential, RefreshToken

FORMAT = "latchkey-account-export"
VERSION = 1


async def export(
    services: Services, user: User, session: Session | None, client: ClientInfo
) -> dict[str, Any]:
    """The document, for a session re-authenticated for a sensitive change."""
    await reauthentication.require(services, user, session)
    data = await document(user)
    await record("account.exported", user=user, client=client)
    return data


async def document(user: User) -> dict[str, Any]:
    two_factor = await TwoFactor.get_or_none(user_id=user.id)
    factors = await Authenticator.filter(user_id=user.id).order_by("id")
    groups = await user.groups.all().order_by("name")
    sessions = await Session.filter(user_id=user.id).order_by("id")
    devices = await TrustedDevice.filter(user_id=user.id).order_by("id")
    tokens = await RefreshToken.filter(user_id=user.id).order_by("id")
    credentials = await ApiCredential.get_or_none(user_id=user.id)
    applications = await ApplicationAccess.filter(user_id=user.id).select_related("client")
    events = await SecurityEvent.filter(user_id=user.id).order_by("id")
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": _time(clock.now()),
        "profile": {
            "id": str(user.id),
            "username": user.username,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "description": user.description,
            "mobile_phone": user.mobile_phone,
            "time_zone": user.time_zone,
            "language": user.language,
            "created_at": _time(user.created_at),
            "password_changed_at": _time(user.password_changed_at),
        },
        "account_type": user.account_type,
        "groups": [group.name for group in groups],
        "two_factor": {
            "enabled": two_factor is not None,
            "policy": two_factor.policy if two_factor else None,
            "enabled_at": _time(two_factor.enabled_at) if two_factor else None,
        },
        "second_factors": [
            {
                "kind": factor.kind,
                "name": factor.name,
                "preferred": factor.preferred,
                "created_at": _time(factor.created_at),
                "last_used_at": _time(factor.last_used_at),
            }
            for factor in factors
            if factor.kind != PASSKEY
        ],
        "passkeys": [
            {
                "name": factor.name,
                "created_at": _time(factor.created_at),
                "last_used_at": _time(factor.last_used_at),
            }
            for factor in factors
            if factor.kind == PASSKEY
        ],
        "recognized_devices": [
            {
                "browser": device.browser_name,
                "system": device.system_name,
                "ip_address": device.ip_address,
                "created_at": _time(device.created_at),
                "last_seen_at": _time(device.last_seen_at),
                "expires_at": _time(device.expires_at),
            }
            for device in devices
        ],
        "sessions": [
            {
                "browser": session.browser_name,
                "system": session.system_name,
                "user_agent": session.user_agent,
                "ip_address": session.ip_address,
                "created_at": _time(session.created_at),
                "last_seen_at": _time(session.last_seen_at),
            }
            for session in sessions
        ],
        "tokens": [
            {
                "id": str(token.id),
                "name": token.name,
                "created_at": _time(token.created_at),
                "expires_at": _time(token.expires_at),
                "last_used_at": _time(token.last_used_at),
                "last_used_ip": token.last_used_ip,
                "revoked_at": _time(token.revoked_at),
            }
            for token in tokens
        ],
        "api_credentials": [
            {
                "client_id": credentials.client_id,
                "created_at": _time(credentials.created_at),
                "last_used_at": _time(credentials.last_used_at),
            }
        ]
        if credentials
        else [],
        "applications": [
            {
                "name": access.client.name,
                "client_id": access.client.client_id,
                "scopes": access.scopes.split(),
                "consented_scopes": access.consented_scopes.split(),
                "consented_at": _time(access.consented_at),
                "created_at": _time(access.created_at),
                "last_used_at": _time(access.last_used_at),
            }
            for access in sorted(applications, key=lambda access: access.id)
        ],
        "security_log": [
            {
                "kind": event.kind,
                "created_at": _time(event.created_at),
                "ip_address": event.ip_address,
                "browser": event.browser_name,
                "system": event.system_name,
                "details": event.details,
            }
            for event in events
        ],
    }


def _time(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None
