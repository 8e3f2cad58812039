"""What an administrator does to an account.

Each use case checks the administrator first (authority.authorize: FORBIDDEN, then the
session's re-authentication or the token's scope), acts in one transaction with the
user's security log, the operator log and the event (telling.py), and emails the user
once that committed.

Disabling ends at once, in that transaction, everything that lets the account in: its
sessions (through auth/sessions/ending.py, so applications get back-channel logout
tokens), refresh and access tokens, API credentials, applications' refresh tokens and
unredeemed codes. The account's row says it is disabled, and every request reads that row
(the session's and the bearer token's queries join it), so nothing of it works on any
worker from the commit on. Enabling lets the user sign in again; nothing that was ended
comes back.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from backend.account_settings import profile
from backend.accounts import administrators
from backend.accounts import service as accounts
from backend.accounts.models import ADMINISTRATOR, Group, User
from backend.administration import groups as group_admin
from backend.administration.authority import Actor, authorize
from backend.administration.telling import Notice, administrator_data, record_action, tell_user
from backend.auth import reset_links as links
from backend.auth.factors.models import Authenticator
from backend.auth.factors.registry import is_backup, sent_to
from backend.auth.factors.removal import remove_everything
from backend.auth.models import SignInLockout
from backend.auth.services import Services
from backend.auth.sessions import ending
from backend.auth.sessions.models import Session
from backend.auth.throttle import service as throttle
from backend.auth.throttle.keys import account_key
from backend.events.emit import emit
from backend.kernel import clock, i18n
from backend.kernel.errors import DomainError, NotFound, Problem
from backend.kernel.i18n import N_, Duration
from backend.kernel.text import clean_name
from backend.oidc.models import AuthorizationCode, OidcRefreshToken
from backend.tokens.models import AccessToken, ApiCredential, RefreshToken

# An invitation's link to choose a first password: longer than a reset link's, since the
# new user may read their mail days later.
INVITATION_LIFETIME = timedelta(days=7)
MAX_REASON = administrators.MAX_REASON

# How the notice names what changed.
FIELD_WORDS = {
    "email": N_("email address"),
    "first_name": N_("first name"),
    "last_name": N_("last name"),
    "mobile_phone": N_("mobile phone number"),
    "groups": N_("groups"),
}
# Between the words of a list (Japanese has its own comma).
LIST_SEPARATOR = N_(", ")


async def target(user_id: int) -> User:
    user = await User.get_or_none(id=user_id)
    if user is None:
        raise NotFound("user_id")
    return user


# -- account type ---------------------------------------------------------------------


async def set_account_type(services: Services, actor: Actor, user: User, account_type: str) -> bool:
    """`latchkey user set-account-type`, and updateUser's accountType alone."""
    await authorize(services, actor, token_may=False)
    async with in_transaction():
        changed = await _set_account_type(actor, user, account_type)
    if changed:
        await tell_user(services, actor, user, _account_type_notice(account_type))
    return changed


async def _set_account_type(actor: Actor, user: User, account_type: str) -> bool:
    """Inside the transaction, first: the last-administrator rule's lock is taken here."""
    changed = await administrators.set_account_type(user, account_type)
    if changed:
        promoted = account_type == ADMINISTRATOR
        await record_action(
            actor,
            "user.made_administrator" if promoted else "user.made_user",
            user,
            event="user.updated",
            event_data={"fields": ["account_type"]},
            account_type=account_type,
        )
    return changed


def _account_type_notice(account_type: str) -> Notice:
    if account_type == ADMINISTRATOR:
        return Notice(
            N_("You are now an administrator"),
            N_(
                "An administrator ({administrator}) made your Latchkey account {username} an "
                "administrator: it can now see and change every account."
            ),
        )
    return Notice(
        N_("You are no longer an administrator"),
        N_(
            "An administrator ({administrator}) removed the administrator rights of your "
            "Latchkey account {username}."
        ),
    )


# -- creating and changing accounts -----------------------------------------------------


@dataclasses.dataclass(frozen=True)
class NewAccount:
    username: str
    email: str
    first_name: str = ""
    last_name: str = ""
    account_type: str = "USER"
    groups: list[str] | None = None
    send_invitation: bool = False


async def create_user(services: Services, actor: Actor, new: NewAccount) -> User:
    """A new account without a password: the invitation's link sets one (or, without it,
    "Forgot your password?"). Making an administrator needs a session."""
    administrators.check_account_type(new.account_type)
    await authorize(services, actor, token_may=new.account_type != ADMINISTRATOR)
    problems: list[Problem] = []
    names = _checked_names({"first_name": new.first_name, "last_name": new.last_name}, problems)
    chosen = await _groups_named(new.groups or [], problems)
    if problems:
        raise DomainError.of(problems)

    async def along(user: User) -> None:
        await record_action(actor, "user.created", user, account_type=new.account_type)
        for group in chosen:
            await _add_to(actor, user, group)

    user = await accounts.create_user(
        services.hasher,
        username=new.username,
        email=new.email,
        password=None,
        account_type=new.account_type,
        first_name=names.get("first_name", ""),
        last_name=names.get("last_name", ""),
        along=along,
        created_by=administrator_data(actor),
    )
    if new.send_invitation:
        link = await links.mint(services, user, INVITATION_LIFETIME)
        notice = Notice(
            N_("Your new Latchkey account"),
            N_(
                "An administrator ({administrator}) created the Latchkey account {username} "
                "for you.\n\nTo choose its password, open this link within {valid_for}; it "
                "works once:\n{link}\n\n"
                'Later, ask for a new link on the sign-in page ("Forgot your password?").'
            ),
            {"link": link, "valid_for": Duration(int(INVITATION_LIFETIME.total_seconds()))},
        )
    else:
        notice = Notice(
            N_("Your new Latchkey account"),
            N_(
                "An administrator ({administrator}) created the Latchkey account {username} "
                'for you. To choose its password, use "Forgot your password?" on the '
                "sign-in page."
            ),
        )
    await tell_user(services, actor, user, notice)
    return user


@dataclasses.dataclass(frozen=True)
class Changes:
    """Fields left as None are not changed; `mobile_phone` "" clears the number."""

    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    mobile_phone: str | None = None
    account_type: str | None = None
    groups: list[str] | None = None


async def update_user(services: Services, actor: Actor, user_id: int, changes: Changes) -> User:
    """Apply the changes together, or none. The email address changes at once (the
    administrator vouches for it; no code is sent), and the notice goes to the old one."""
    if changes.account_type is not None:
        administrators.check_account_type(changes.account_type)
    await authorize(services, actor, token_may=changes.account_type is None)
    user = await target(user_id)
    problems: list[Problem] = []
    values = _checked_names(
        {name: getattr(changes, name) for name in ("first_name", "last_name")}, problems
    )
    if changes.mobile_phone is not None:
        try:
            values["mobile_phone"] = profile.phone_number(changes.mobile_phone)
        except DomainError as error:
            problems += error.problems
    if changes.email is not None:
        try:
            email = accounts.normalize_email(changes.email.strip())
            if accounts.email_key(email) != user.email_key:
                values["email"] = email
                values["email_key"] = accounts.email_key(email)
        except DomainError as error:
            problems += error.problems
    chosen = await _groups_named(changes.groups, problems) if changes.groups is not None else None
    values = {name: value for name, value in values.items() if getattr(user, name) != value}
    if "mobile_phone" in values and values["mobile_phone"] is None:
        texted = Authenticator.filter(user=user, kind__in=sent_to("mobile_phone"))
        if await texted.exists():
            problems.append(
                Problem(
                    "PHONE_REQUIRED_FOR_SMS",
                    N_("The user's codes go to this number: it cannot be cleared."),
                    "mobile_phone",
                )
            )
    if "email_key" in values and await User.filter(email_key=values["email_key"]).exists():
        problems.append(Problem("CONFLICT", "Another account uses this email address.", "email"))
    if problems:
        raise DomainError.of(problems)
    old_email = user.email
    changed: list[str] = []
    try:
        async with in_transaction():
            # First: the last-administrator rule locks the administrators until the commit.
            if changes.account_type is not None and await _set_account_type(
                actor, user, changes.account_type
            ):
                changed.append("account_type")
            fields = sorted(name for name in values if name != "email_key")
            if fields:
                await User.filter(id=user.id).update(**accounts.with_name_keys(dict(values)))
                for name, value in values.items():
                    setattr(user, name, value)
                await record_action(
                    actor,
                    "user.updated",
                    user,
                    event="user.updated",
                    event_data={"fields": fields},
                    fields=fields,
                )
                changed += fields
            if chosen is not None and await _set_groups(actor, user, chosen):
                changed.append("groups")
    except IntegrityError:  # another account took the address meanwhile
        raise DomainError("CONFLICT", "Another account uses this email address.", "email") from None
    if "account_type" in changed:
        notice = _account_type_notice(user.account_type)
        await tell_user(services, actor, user, notice, to=old_email)
    others = [name for name in changed if name != "account_type"]
    if others:
        language = i18n.language_of(user)
        separator = i18n.gettext(language, LIST_SEPARATOR)
        words = separator.join(i18n.gettext(language, FIELD_WORDS[name]) for name in others)
        notice = Notice(
            N_("An administrator changed your account"),
            N_(
                "An administrator ({administrator}) changed your Latchkey account "
                "{username}: {fields}."
            ),
            {"fields": words},
        )
        await tell_user(services, actor, user, notice, to=old_email)
    return user


def _checked_names(names: dict[str, str | None], problems: list[Problem]) -> dict[str, str]:
    values = {}
    for name, value in names.items():
        if value is None:
            continue
        value = clean_name(value, name) if value.strip() else ""
        if len(value) > 100:
            problems.append(Problem("VALIDATION_FAILED", "Use at most 100 characters.", name))
            continue
        values[name] = value
    return values


async def _groups_named(names: list[str], problems: list[Problem]) -> list[Group]:
    found = await group_admin.named(names)
    missing = [name for name in dict.fromkeys(names) if name not in {g.name for g in found}]
    if missing:
        problems.append(
            Problem(
                "NOT_FOUND",
                N_("There is no group named {name}."),
                "groups",
                {"name": missing[0]},
            )
        )
    return found


async def _set_groups(actor: Actor, user: User, chosen: list[Group]) -> bool:
    current = {group.id: group for group in await user.groups.all()}
    wanted = {group.id: group for group in chosen}
    for group_id in sorted(set(current) - set(wanted)):
        await _remove_from(actor, user, current[group_id])
    for group_id in sorted(set(wanted) - set(current)):
        await _add_to(actor, user, wanted[group_id])
    return set(current) != set(wanted)


async def _add_to(actor: Actor, user: User, group: Group) -> None:
    await group.members.add(user)
    await record_action(
        actor,
        "group.member_added",
        user,
        event="group.member_added",
        event_data={"group": {"name": group.name}},
        group=group.name,
    )


async def _remove_from(actor: Actor, user: User, group: Group) -> None:
    await group.members.remove(user)
    await record_action(
        actor,
        "group.member_removed",
        user,
        event="group.member_removed",
        event_data={"group": {"name": group.name}},
        group=group.name,
    )


# -- disabling and enabling ---------------------------------------------------------------


async def disable_user(services: Services, actor: Actor, user_id: int, reason: str = "") -> User:
    """Sign-in stops, and every session, token and credential ends at once.
    LAST_ADMINISTRATOR for the last working administrator; nothing for a disabled one."""
    await authorize(services, actor, token_may=True)
    reason = _checked_reason(reason)
    user = await target(user_id)
    async with in_transaction():
        # First: the last-administrator rule locks the administrators until the commit.
        if not await administrators.disable(user, reason):
            return user
        ended = await ending.end(Session.filter(user_id=user.id))
        counts = await end_access(user)
        await record_action(
            actor,
            "user.disabled",
            user,
            event="user.disabled",
            reason=reason,
            session_count=len(ended),
            **counts,
        )
        if ended:
            await emit(
                "session.ended",
                user=user,
                reason="disabled",
                count=len(ended),
                administrator=administrator_data(actor),
            )
    notice = Notice(
        N_("Your account was disabled"),
        N_(
            "An administrator ({administrator}) disabled your Latchkey account {username}: "
            "it cannot sign in, and its sessions, tokens and API credentials have ended."
        ),
    )
    if reason:
        notice = Notice(
            notice.subject,
            N_(
                "An administrator ({administrator}) disabled your Latchkey account "
                "{username}: it cannot sign in, and its sessions, tokens and API "
                "credentials have ended. The reason given: {reason}"
            ),
            {"reason": reason},
        )
    await tell_user(services, actor, user, notice)
    return user


async def end_access(user: User) -> dict[str, int]:
    """Inside a transaction: every token and credential of the account ends (sessions are
    the caller's, through ending.py). What ended, counted for the log."""
    now = clock.now()
    tokens = await RefreshToken.filter(user_id=user.id, revoked_at=None).update(revoked_at=now)
    await AccessToken.filter(user_id=user.id).delete()
    credentials = await ApiCredential.filter(user_id=user.id).delete()
    applications = await OidcRefreshToken.filter(user_id=user.id, revoked_at=None).update(
        revoked_at=now
    )
    await AuthorizationCode.filter(user_id=user.id, used_at=None).update(used_at=now)
    return {
        "token_count": tokens,
        "api_credential_count": credentials,
        "application_token_count": applications,
    }


def _checked_reason(reason: str) -> str:
    lines = [clean_name(line, "reason") for line in (reason or "").strip().splitlines()]
    reason = " ".join(line for line in lines if line)
    if len(reason) > MAX_REASON:
        raise DomainError(
            "VALIDATION_FAILED",
            N_("Use at most {count} characters."),
            "reason",
            count=MAX_REASON,
        )
    return reason


async def enable_user(services: Services, actor: Actor, user_id: int) -> User:
    """Sign-in works again; what disabling ended stays ended."""
    await authorize(services, actor, token_may=True)
    user = await target(user_id)
    async with in_transaction():
        if not await administrators.enable(user):
            return user
        await record_action(actor, "user.enabled", user, event="user.enabled")
    await tell_user(
        services,
        actor,
        user,
        Notice(
            N_("Your account was enabled"),
            N_(
                "An administrator ({administrator}) enabled your Latchkey account {username}: "
                "it can sign in again. Sessions and tokens that ended when it was disabled "
                "stay ended."
            ),
        ),
    )
    return user


# -- locks, factors, links, sessions ----------------------------------------------------------


async def unlock_user(services: Services, actor: Actor, user_id: int) -> User:
    """Password sign-in works again: the lock after failures, or after "This wasn't me",
    and the sign-in throttle's wait end. Nothing for an account that is not locked."""
    await authorize(services, actor, token_may=True)
    user = await target(user_id)
    async with in_transaction():
        locked = await SignInLockout.filter(user_id=user.id, locked_at__not_isnull=True).exists()
        await SignInLockout.filter(user_id=user.id).delete()
        if locked:
            await record_action(actor, "user.unlocked", user, event="user.unlocked")
    await throttle.clear(account_key(user.username))
    if locked:
        await tell_user(
            services,
            actor,
            user,
            Notice(
                N_("Your account was unlocked"),
                N_(
                    "An administrator ({administrator}) unlocked your Latchkey account "
                    "{username}: it can sign in with its password again."
                ),
            ),
        )
    return user


async def reset_two_factor(services: Services, actor: Actor, user_id: int) -> User:
    """For a user who lost every factor: two-factor authentication off, with every
    factor, recovery code and recognized device. Needs a session (never a token)."""
    await authorize(services, actor, token_may=False)
    user = await target(user_id)
    async with in_transaction():
        kinds = await Authenticator.filter(user=user).values_list("kind", flat=True)
        await remove_everything(user)
        await record_action(actor, "user.two_factor_reset", user)
        for kind in sorted({kind for kind in kinds if not is_backup(kind)}):
            await emit(
                "second_factor.removed",
                user=user,
                factor={"kind": kind},
                administrator=administrator_data(actor),
            )
    await tell_user(
        services,
        actor,
        user,
        Notice(
            N_("Two-factor authentication was reset"),
            N_(
                "An administrator ({administrator}) turned off two-factor authentication for "
                "your Latchkey account {username}, with every second factor and recovery "
                "code. Sign in and set it up again."
            ),
        ),
    )
    return user


async def send_password_reset_link(services: Services, actor: Actor, user_id: int) -> User:
    """Email the user a link to choose a new password. Needs a session (never a token)."""
    await authorize(services, actor, token_may=False)
    user = await target(user_id)
    async with in_transaction():
        link = await links.mint(services, user)
        await record_action(actor, "user.password_reset_link_sent", user)
    await tell_user(
        services,
        actor,
        user,
        Notice(
            N_("Choose a new Latchkey password"),
            N_(
                "An administrator ({administrator}) asked that you choose a new password for "
                "your Latchkey account {username}.\n\nOpen this link within {valid_for}; it "
                "works once:\n{link}"
            ),
            {"link": link, "valid_for": links.valid_for(services)},
        ),
    )
    return user


async def end_user_sessions(services: Services, actor: Actor, user_id: int) -> int:
    """Sign the user out everywhere (applications get back-channel logout tokens); how many
    sessions ended. Tokens and credentials keep working."""
    await authorize(services, actor, token_may=True)
    user = await target(user_id)
    async with in_transaction():
        ended = await ending.end(Session.filter(user_id=user.id))
        await record_action(actor, "user.sessions_ended", user, session_count=len(ended))
        if ended:
            await emit(
                "session.ended",
                user=user,
                reason="administrator",
                count=len(ended),
                administrator=administrator_data(actor),
            )
    await tell_user(
        services,
        actor,
        user,
        Notice(
            N_("You were signed out"),
            N_(
                "An administrator ({administrator}) signed out every session of your "
                "Latchkey account {username}. Sign in again to go on."
            ),
        ),
    )
    return len(ended)
