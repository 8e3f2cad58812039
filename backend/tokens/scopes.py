"""Token scopes: the built-in ones, the platform's own, and which operations each allows.

`account:read` and `account:write` are Latchkey's; the operator adds the platform's own
with `LATCHKEY_SCOPES` (`name=description;...`). Latchkey enforces only its own: a
platform scope means nothing here and travels to the platform's services through
introspection. Security changes (every sensitive mutation, `reauthenticate`, deleting
tokens) are in no scope at all: a bearer token never makes them.

Sessions are not limited by scopes; only bearer tokens are.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable

from backend.infra.config import ConfigError, Settings
from backend.kernel.errors import DomainError
from backend.kernel.i18n import N_

ACCOUNT_READ = "account:read"
ACCOUNT_WRITE = "account:write"
# An administrator's: only an administrator's tokens may carry them, and they work only
# while their owner is one (see `effective`).
ADMIN_READ = "admin:read"
ADMIN_WRITE = "admin:write"
ADMIN_SCOPES = frozenset({ADMIN_READ, ADMIN_WRITE})
BUILT_IN = {
    ACCOUNT_READ: N_("See your account: profile, groups, tokens, sessions and security log"),
    ACCOUNT_WRITE: N_("Change your profile details and join or leave groups"),
    ADMIN_READ: N_("Administrators: see every account, the groups and the operator log"),
    ADMIN_WRITE: N_(
        "Administrators: create, change, disable, enable and unlock accounts, and sign them out"
    ),
}
# RFC 6749 §3.3 allows more characters in a scope token; these read well in lists and mail.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}")
MAX_DESCRIPTION = 200

# Root fields a bearer token may reach, by the scope each needs. Public query fields need
# none. A mutation that is not listed needs a scope no token has: it is refused.
QUERY_SCOPES = {"viewer": ACCOUNT_READ, "admin": ADMIN_READ}
PUBLIC_QUERIES = frozenset(
    {"passwordPolicy", "passwordResetLink", "timeZones", "tokenScopes", "application"}
)
MUTATION_SCOPES = {
    "updateAccount": ACCOUNT_WRITE,
    "verifyEmailChange": ACCOUNT_WRITE,
    "resendEmailChangeCode": ACCOUNT_WRITE,
    "cancelEmailChange": ACCOUNT_WRITE,
    "joinGroup": ACCOUNT_WRITE,
    "leaveGroup": ACCOUNT_WRITE,
    # What a provisioning script needs. Making an administrator (updateUser with
    # accountType), resetUserTwoFactor and sendPasswordResetLink need an administrator's
    # re-authenticated session: the use cases refuse tokens those.
    "createUser": ADMIN_WRITE,
    "updateUser": ADMIN_WRITE,
    "disableUser": ADMIN_WRITE,
    "enableUser": ADMIN_WRITE,
    "unlockUser": ADMIN_WRITE,
    "endUserSessions": ADMIN_WRITE,
}


# Account data, wherever a document reaches it: through `viewer` or through a mutation's
# payload. The GraphQL types that carry it and the scope that reads them; the field that
# leads into one of them needs that scope. A group a payload names is not listed: it is the
# group the write itself joined or left, as the caller named it.
DATA_SCOPES = dict.fromkeys(
    (
        "User",
        "Token",
        "ApiCredentials",
        "Session",
        "SecurityEventConnection",
        "SecurityEventEdge",
        "SecurityEvent",
        "Passkey",
        "TwoFactor",
        "Authenticator",
        "TrustedDevice",
        "ApplicationAccessGrant",
    ),
    ACCOUNT_READ,
) | dict.fromkeys(
    (
        "Administration",
        "AdminUser",
        "AdminUserConnection",
        "AdminUserEdge",
        "AdminGroup",
        "OperatorLogConnection",
        "OperatorLogEdge",
        "OperatorLogEntry",
    ),
    ADMIN_READ,
)
# Inside administrators' data, the account data an administrator sees of a user (their
# sessions, tokens, security log) needs no scope of its own: admin:read covers it.
COVERS = {ADMIN_READ: frozenset({ACCOUNT_READ})}


def allows_query(scopes: frozenset[str], field: str) -> bool:
    if field in PUBLIC_QUERIES or field.startswith("__"):
        return True
    return QUERY_SCOPES.get(field) in scopes


def allows_data(scopes: frozenset[str], type_name: str) -> bool:
    needed = DATA_SCOPES.get(type_name)
    return needed is None or needed in scopes


def needed_inside(inside: str | None, needed: str | None) -> bool:
    """Whether a field of a type read with the scope `inside` that leads to data needing
    `needed` must check that scope again."""
    return needed is not None and needed != inside and needed not in COVERS.get(inside, ())


def effective(scopes: frozenset[str], holder: object) -> frozenset[str]:
    """What a token may do now: the administrators' scopes only while its owner is an
    administrator whose account works, read from the database with the token."""
    if scopes & ADMIN_SCOPES and not getattr(holder, "is_administrator", False):
        return scopes - ADMIN_SCOPES
    return scopes


def held(stored: str, holder: object) -> tuple[str, ...]:
    """A token's stored scopes that work now, in their order (see `effective`)."""
    working = effective(frozenset(split(stored)), holder)
    return tuple(name for name in split(stored) if name in working)


def check_holder(chosen: Iterable[str], holder: object) -> None:
    """Only an administrator's tokens and credentials may be given an administrator's scope."""
    if set(chosen) & ADMIN_SCOPES and not getattr(holder, "is_administrator", False):
        raise DomainError(
            "VALIDATION_FAILED",
            N_("Only an administrator's tokens may have the scopes admin:read and admin:write."),
            "scopes",
        )


def allows_mutation(scopes: frozenset[str], field: str) -> bool:
    needed = MUTATION_SCOPES.get(field)
    return needed is not None and needed in scopes


def insufficient() -> DomainError:
    return DomainError("INSUFFICIENT_SCOPE", "This token does not have the scope this needs.")


@dataclasses.dataclass(frozen=True)
class Scope:
    name: str
    description: str
    built_in: bool


@dataclasses.dataclass(frozen=True)
class Catalog:
    """The scopes this server knows, in the order they are shown, and the default set."""

    scopes: tuple[Scope, ...]
    default: tuple[str, ...]

    def names(self) -> tuple[str, ...]:
        return tuple(scope.name for scope in self.scopes)

    def describe(self, name: str) -> str:
        return next((s.description for s in self.scopes if s.name == name), "")

    def ordered(self, names: Iterable[str]) -> tuple[str, ...]:
        """The known names among `names`, once each, in the catalog's order."""
        wanted = set(names)
        return tuple(name for name in self.names() if name in wanted)

    def chosen(self, names: list[str] | None) -> tuple[str, ...]:
        """The scopes a user asked for (the default when None); VALIDATION_FAILED otherwise."""
        if names is None:
            return self.default
        cleaned = [name.strip() for name in names]
        unknown = [name for name in cleaned if name not in self.names()]
        if unknown:
            raise DomainError(
                "VALIDATION_FAILED",
                "Unknown scope. Choose among: {names}.",
                "scopes",
                names=", ".join(self.names()),
            )
        if not cleaned:
            raise DomainError("VALIDATION_FAILED", "Choose at least one scope.", "scopes")
        return self.ordered(cleaned)

    def narrowed(self, granted: Iterable[str], requested: str | None) -> tuple[str, ...] | None:
        """RFC 6749 §6: the granted scopes, or the requested ones when all were granted.

        None when a requested scope is unknown or was not granted (`invalid_scope`).
        Scopes the operator has since removed are no longer given out.
        """
        granted = self.ordered(granted)
        if requested is None:
            return granted
        asked = set(requested.split())
        if not asked or not asked <= set(granted):
            return None
        return self.ordered(asked)


def for_settings(settings: Settings) -> Catalog:
    """The catalog from `LATCHKEY_SCOPES` and `LATCHKEY_DEFAULT_SCOPES`; ConfigError if bad."""
    return _catalog(settings.scopes, settings.default_scopes)


@functools.lru_cache(maxsize=16)
def _catalog(platform: str, default: str) -> Catalog:
    scopes = [Scope(name, text, True) for name, text in BUILT_IN.items()]
    for entry in platform.split(";"):
        if not entry.strip():
            continue
        name, separator, description = entry.partition("=")
        name, description = name.strip(), description.strip()
        if not separator or not NAME.fullmatch(name):
            raise ConfigError(
                "LATCHKEY_SCOPES must read name=description;... with names of letters, "
                f"digits and _.:/- (at most 64), not {entry.strip()!r}"
            )
        if any(scope.name == name for scope in scopes):
            raise ConfigError(f"LATCHKEY_SCOPES names the scope {name} twice")
        if not description or len(description) > MAX_DESCRIPTION:
            raise ConfigError(
                f"LATCHKEY_SCOPES: give {name} a description of 1 to {MAX_DESCRIPTION} characters"
            )
        scopes.append(Scope(name, description, False))
    known = {scope.name for scope in scopes}
    chosen = [name for name in re.split(r"[\s,]+", default) if name]
    unknown = [name for name in chosen if name not in known]
    if unknown or not chosen:
        raise ConfigError(
            "LATCHKEY_DEFAULT_SCOPES must name known scopes, separated by spaces or commas"
        )
    if set(chosen) & ADMIN_SCOPES:
        raise ConfigError(
            "LATCHKEY_DEFAULT_SCOPES may not name admin:read or admin:write: tokens get them "
            "only when an administrator asks"
        )
    catalog = Catalog(tuple(scopes), ())
    return dataclasses.replace(catalog, default=catalog.ordered(chosen))


def joined(names: Iterable[str]) -> str:
    """As stored and as OAuth writes them: space-separated."""
    return " ".join(names)


def split(stored: str) -> tuple[str, ...]:
    return tuple(stored.split())
