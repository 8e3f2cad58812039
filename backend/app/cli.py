"""The `latchkey` command for operators."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from tortoise import Tortoise

from backend.app.wiring import build_services, listen_to_session_ends
from backend.infra.config import ConfigError, Settings
from backend.infra.database import (
    UnmigratedDatabase,
    apply_migrations,
    ensure_migrated,
    tortoise_config,
)
from backend.infra.logs import logging_config, readable
from backend.kernel.errors import DomainError

DEMO_USERNAME = "demo"


class CommandFailed(Exception):
    """Ends the command with a one-line reason and a non-zero exit status."""


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        return args.command(args, settings) or 0
    except (CommandFailed, ConfigError, UnmigratedDatabase) as error:
        print(f"latchkey: {error}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="latchkey", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve_cmd = commands.add_parser("serve", help="serve the API and the account page")
    serve_cmd.add_argument("--host", default="127.0.0.1")
    serve_cmd.add_argument("--port", type=int, default=8000)
    serve_cmd.add_argument("--workers", type=int, default=1)
    serve_cmd.add_argument(
        "--metrics-port",
        type=int,
        help="serve Prometheus metrics at /metrics on this port only "
        "(default: LATCHKEY_METRICS_PORT; none unless one is given)",
    )
    serve_cmd.set_defaults(command=serve)

    commands.add_parser("migrate", help="apply database migrations").set_defaults(command=migrate)
    commands.add_parser("export-schema", help="print the GraphQL SDL").set_defaults(
        command=export_schema
    )

    user = commands.add_parser("user", help="manage users").add_subparsers(
        required=True, metavar="ACTION"
    )
    create = user.add_parser("create", help="create a user")
    create.add_argument("username")
    create.add_argument("--email", required=True)
    create.add_argument(
        "--password-stdin",
        action="store_true",
        required=True,
        help="read the password from standard input (it never appears in argv)",
    )
    create.add_argument(
        "--account-type",
        choices=("USER", "ADMINISTRATOR"),
        default="USER",
        help="ADMINISTRATOR: the account may manage every account (default USER)",
    )
    create.set_defaults(command=create_user)
    account_type = user.add_parser(
        "set-account-type",
        help="make a user an administrator, or an administrator a user again",
    )
    account_type.add_argument("username")
    account_type.add_argument("type", choices=("USER", "ADMINISTRATOR"), metavar="TYPE")
    account_type.set_defaults(command=set_account_type)
    reset = user.add_parser("reset-2fa", help="turn off two-factor authentication of a user")
    reset.add_argument("username")
    reset.set_defaults(command=reset_two_factor)
    reset_password = user.add_parser(
        "reset-password",
        help="email a user a link to choose a new password (to the log without a mail server)",
    )
    reset_password.add_argument("username")
    reset_password.add_argument(
        "--email",
        help="first set the account's email address (to restore an account whose change of "
        "address was disputed, once you know whose it is)",
    )
    reset_password.set_defaults(command=send_password_reset)
    group = commands.add_parser("group", help="manage groups").add_subparsers(
        required=True, metavar="ACTION"
    )
    group_create = group.add_parser("create", help="create a group")
    group_create.add_argument("name")
    group_create.add_argument(
        "--self-service", action="store_true", help="members may join and leave it themselves"
    )
    group_create.add_argument("--description", default="")
    group_create.set_defaults(command=create_group)
    for action, helptext in (
        ("add-member", "add a user to a group"),
        ("remove-member", "remove a user from a group"),
    ):
        member = group.add_parser(action, help=helptext)
        member.add_argument("group")
        member.add_argument("username")
        member.set_defaults(command=change_membership, action=action)
    service_client = commands.add_parser(
        "service-client", help="manage the services that may introspect tokens"
    ).add_subparsers(required=True, metavar="ACTION")
    service_create = service_client.add_parser(
        "create", help="create a service client; prints its id and secret once"
    )
    service_create.add_argument("name")
    service_create.set_defaults(command=create_service_client)
    service_client.add_parser(
        "list", help="list service clients (never their secrets)"
    ).set_defaults(command=list_service_clients)
    service_remove = service_client.add_parser("remove", help="remove a service client")
    service_remove.add_argument("name")
    service_remove.set_defaults(command=remove_service_client)
    _webhook_commands(commands)
    signing_key = commands.add_parser(
        "signing-key", help="the keys that sign ID tokens"
    ).add_subparsers(required=True, metavar="ACTION")
    signing_key.add_parser(
        "rotate", help="sign with new keys; the old ones stay published until their tokens expire"
    ).set_defaults(command=rotate_signing_keys)
    _oidc_client_commands(commands)
    signing_key.add_parser(
        "list", help="the keys and whether they sign or are published"
    ).set_defaults(command=list_signing_keys)
    demo = user.add_parser("create-demo", help="create a demo user if there are no users yet")
    demo.set_defaults(command=create_demo_user)
    return parser


def serve(args: argparse.Namespace, settings: Settings) -> int:
    _run(_check_migrated, settings)
    if "LATCHKEY_PUBLIC_URL" not in os.environ:
        # Unset, the public URL follows the port; the workers read it from the environment.
        os.environ["LATCHKEY_PUBLIC_URL"] = f"http://localhost:{args.port}"
        settings = Settings.from_env()
    # Passkeys work only at the public URL (a domain name): that is the address to open.
    print(
        f"Latchkey listening on http://{args.host}:{args.port}; open {settings.public_url}",
        file=sys.stderr,
    )
    metrics_port = settings.metrics_port if args.metrics_port is None else args.metrics_port
    with contextlib.ExitStack() as stack:
        if metrics_port:
            _serve_metrics(stack, args.host, metrics_port)
        _run_uvicorn(args, settings)
    return 0


def _serve_metrics(stack: contextlib.ExitStack, host: str, port: int) -> None:
    from backend.infra import metrics

    # The directory is named in the environment before any worker starts (they inherit it).
    stack.enter_context(metrics.multiprocess_directory())
    try:
        server = metrics.serve(host, port)
    except OSError as error:
        raise CommandFailed(f"cannot serve metrics on port {port}: {error.strerror}") from None
    stack.callback(server.server_close)
    stack.callback(server.shutdown)
    print(f"Metrics at http://{host}:{port}/metrics", file=sys.stderr)


def _run_uvicorn(args: argparse.Namespace, settings: Settings) -> None:
    import uvicorn

    uvicorn.run(
        "backend.app.factory:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        # The levels are the config's alone: uvicorn's log_level would lower its loggers'
        # to LATCHKEY_LOG_LEVEL, and at TRACE log every request's path and headers.
        log_config=logging_config(
            settings.log_level, text=readable(settings.log_format, sys.stderr)
        ),
        proxy_headers=False,  # client addresses come from LATCHKEY_TRUSTED_PROXIES only
    )


def migrate(args: argparse.Namespace, settings: Settings) -> int:
    from backend.oidc import keys

    asyncio.run(apply_migrations(settings.database_url))

    async def ensure_signing_keys(settings: Settings) -> list[Any]:
        return await keys.ensure(_box(settings))

    for made in _run(ensure_signing_keys, settings):
        print(f"Made the {made.alg} signing key {made.kid}.")
    print("Database is up to date.")
    return 0


def export_schema(args: argparse.Namespace, settings: Settings) -> int:
    from backend.api.schema import build_schema

    sys.stdout.write(build_schema().as_str() + "\n")
    return 0


def create_user(args: argparse.Namespace, settings: Settings) -> int:
    password = sys.stdin.readline().rstrip("\r\n")
    user = _run(_create_user, settings, args.username, args.email, password, args.account_type)
    kind = "administrator" if args.account_type == "ADMINISTRATOR" else "user"
    print(f"Created {kind} {user.username}.")
    return 0


def set_account_type(args: argparse.Namespace, settings: Settings) -> int:
    changed = _run(_set_account_type, settings, args.username, args.type)
    kind = "an administrator" if args.type == "ADMINISTRATOR" else "a user"
    if changed:
        print(f"{args.username} is now {kind}; the user was told by email.")
    else:
        print(f"{args.username} is {kind} already.")
    return 0


def create_demo_user(args: argparse.Namespace, settings: Settings) -> int:
    password = secrets.token_urlsafe(15)
    created = _run(_create_demo_user, settings, password)
    if created:
        print(
            _boxed(
                "Created the demo user. Its password is shown this once:",
                f"  username: {DEMO_USERNAME}",
                f"  password: {password}",
                f"A new one later: latchkey user reset-password {DEMO_USERNAME}",
                "(without a mail server, the link is written to the log)",
            )
        )
    return 0


def _boxed(*lines: str) -> str:
    """Lines in a frame, to stand out between make's lines and the server's log."""
    width = max(len(line) for line in lines)
    rule = "+" + "-" * (width + 2) + "+"
    return "\n".join([rule, *(f"| {line.ljust(width)} |" for line in lines), rule])


def reset_two_factor(args: argparse.Namespace, settings: Settings) -> int:
    was_on = _run(_reset_two_factor, settings, args.username)
    state = "was on and is now turned off" if was_on else "was already off"
    print(f"Two-factor authentication of {args.username} {state}; the user was told by email.")
    return 0


def send_password_reset(args: argparse.Namespace, settings: Settings) -> int:
    _run(_send_password_reset, settings, args.username, args.email)
    if settings.smtp.host:
        print(f"Emailed {args.username} a link to choose a new password.")
    else:
        print(
            f"No mail server is configured (LATCHKEY_SMTP_HOST): the email to {args.username} "
            "with the link to choose a new password is in the log above."
        )
    return 0


def create_group(args: argparse.Namespace, settings: Settings) -> int:
    _run(_create_group, settings, args.name, args.description, args.self_service)
    kind = "self-service group" if args.self_service else "group"
    print(f"Created {kind} {args.name}.")
    return 0


def change_membership(args: argparse.Namespace, settings: Settings) -> int:
    _run(_change_membership, settings, args.action, args.group, args.username)
    done = "Added" if args.action == "add-member" else "Removed"
    print(f"{done} {args.username} {'to' if args.action == 'add-member' else 'from'} {args.group}.")
    return 0


def create_service_client(args: argparse.Namespace, settings: Settings) -> int:
    created = _run(_create_service_client, settings, args.name)
    print(
        f"Created service client {created.client.name}.\n"
        f"  client_id: {created.client.client_id}\n"
        f"  client_secret: {created.secret}\n"
        "Store the secret now: it is not shown again."
    )
    return 0


def list_service_clients(args: argparse.Namespace, settings: Settings) -> int:
    clients = _run(_list_service_clients, settings)
    if not clients:
        print("No service clients.")
    for client in clients:
        used = client.last_used_at
        last_used = used.isoformat(timespec="seconds") if used else "never"
        created = client.created_at.isoformat(timespec="seconds")
        print(f"{client.name}\t{client.client_id}\tcreated {created}\tlast used {last_used}")
    return 0


def remove_service_client(args: argparse.Namespace, settings: Settings) -> int:
    _run(_remove_service_client, settings, args.name)
    print(f"Removed service client {args.name}; its secret no longer works.")
    return 0


def _webhook_commands(commands: Any) -> None:
    webhook = commands.add_parser(
        "webhook", help="manage the endpoints that hear account events"
    ).add_subparsers(required=True, metavar="ACTION")
    create = webhook.add_parser("create", help="register an endpoint; prints its secret once")
    create.add_argument("url")
    create.add_argument("--events", help="types or prefixes with *, comma-separated (user.*)")
    create.add_argument("--description", default="")
    create.set_defaults(command=create_webhook)
    webhook.add_parser("list", help="list endpoints (never their secrets)").set_defaults(
        command=list_webhooks
    )
    for action, helptext, command in (
        ("remove", "remove an endpoint and its deliveries", remove_webhook),
        ("test", "send a webhook.test event to an endpoint now", test_webhook),
        ("deliveries", "recent deliveries to an endpoint and their attempts", list_deliveries),
    ):
        parser = webhook.add_parser(action, help=helptext)
        parser.add_argument("id")
        parser.set_defaults(command=command)


def create_webhook(args: argparse.Namespace, settings: Settings) -> int:
    from backend.events import endpoints

    async def create(settings: Settings) -> tuple[Any, str]:
        return await _domain(
            endpoints.create(_box(settings), args.url, args.events, args.description)
        )

    endpoint, secret = _run(create, settings)
    print(
        f"Created webhook endpoint {endpoint.id} for {endpoint.events}.\n"
        f"  id: {endpoint.id}\n  secret: {secret}\n"
        "Store the secret now: it is not shown again. Consumers verify deliveries with it."
    )
    return 0


def list_webhooks(args: argparse.Namespace, settings: Settings) -> int:
    from backend.events import endpoints

    async def listed(settings: Settings) -> list[Any]:
        return await endpoints.listed()

    found = _run(listed, settings)
    if not found:
        print("No webhook endpoints.")
    for endpoint in found:
        disabled = endpoint.disabled_at
        state = f"disabled {disabled.isoformat(timespec='seconds')}" if disabled else "enabled"
        print(f"{endpoint.id}\t{endpoint.url}\t{endpoint.events}\t{state}\t{endpoint.description}")
    return 0


def remove_webhook(args: argparse.Namespace, settings: Settings) -> int:
    from backend.events import endpoints

    async def remove(settings: Settings) -> None:
        await _domain(endpoints.remove(args.id))

    _run(remove, settings)
    print(f"Removed webhook endpoint {args.id}; nothing more is sent to it.")
    return 0


def test_webhook(args: argparse.Namespace, settings: Settings) -> int:
    from backend.events import delivery, endpoints

    async def test(settings: Settings) -> tuple[Any, bool]:
        endpoint = await _domain(endpoints.find(args.id))
        return await delivery.send_test(_box(settings), endpoint)

    sent, delivered = _run(test, settings)
    outcome = "delivered" if delivered else "failed; it will be retried"
    print(f"Sent webhook.test as {sent.message_id}: {outcome}.")
    return 0 if delivered else 1


def list_deliveries(args: argparse.Namespace, settings: Settings) -> int:
    from backend.events import delivery, endpoints

    async def recent(settings: Settings) -> list[Any]:
        return await endpoints.recent_deliveries(await _domain(endpoints.find(args.id)))

    found = _run(recent, settings)
    if not found:
        print("No deliveries.")
    for sent in found:
        created = sent.created_at.isoformat(timespec="seconds")
        answers = ",".join(str(a.status or a.error or "-") for a in sent.attempt_log)
        print(
            f"{sent.message_id}\t{sent.type}\t{created}\t{delivery.state_of(sent)}\t"
            f"attempts {sent.attempts}\t{answers}"
        )
    return 0


def _oidc_client_commands(commands: Any) -> None:
    oidc_client = commands.add_parser(
        "oidc-client", help="the applications that sign users in through Latchkey"
    ).add_subparsers(required=True, metavar="ACTION")
    create = oidc_client.add_parser("create", help="register one; prints its secret once")
    create.add_argument("name")
    create.add_argument("--redirect-uri", action="append", required=True, default=[])
    create.add_argument("--post-logout-redirect-uri", action="append", default=[])
    create.add_argument("--backchannel-logout-uri", default="")
    create.add_argument("--public", action="store_true", help="no secret: PKCE only")
    create.add_argument(
        "--third-party", action="store_true", help="run by others: users see a consent page"
    )
    create.add_argument("--scope", action="append", default=[], help="a platform scope")
    create.add_argument("--id-token-alg", default="ES256", choices=("ES256", "RS256"))
    create.set_defaults(command=create_oidc_client)
    oidc_client.add_parser("list", help="the registered applications").set_defaults(
        command=list_oidc_clients
    )
    remove = oidc_client.add_parser("remove", help="remove one; its codes stop working")
    remove.add_argument("name")
    remove.set_defaults(command=remove_oidc_client)


def create_oidc_client(args: argparse.Namespace, settings: Settings) -> int:
    from backend.oidc import clients
    from backend.tokens import scopes as scope_catalog

    async def create(settings: Settings) -> tuple[Any, str | None]:
        return await _domain(
            clients.create(
                args.name,
                args.redirect_uri,
                public=args.public,
                third_party=args.third_party,
                known_scopes=scope_catalog.for_settings(settings).names(),
                post_logout_redirect_uris=args.post_logout_redirect_uri,
                backchannel_logout_uri=args.backchannel_logout_uri,
                scopes=args.scope,
                id_token_alg=args.id_token_alg,
            )
        )

    client, secret = _run(create, settings)
    print(f"Registered {client.name}.\n  client_id: {client.client_id}")
    if secret:
        print(f"  client_secret: {secret}\nStore the secret now: it is not shown again.")
    print(f"  discovery: {settings.public_url.rstrip('/')}/.well-known/openid-configuration")
    return 0


def list_oidc_clients(args: argparse.Namespace, settings: Settings) -> int:
    from backend.oidc import clients

    async def listed(settings: Settings) -> list[Any]:
        return await clients.listed()

    found = _run(listed, settings)
    if not found:
        print("No OpenID Connect clients.")
    for client in found:
        kind = "public" if client.secret_hash is None else "confidential"
        uris = " ".join(client.redirect_uris)
        print(f"{client.name}\t{client.client_id}\t{kind}\t{uris}")
    return 0


def remove_oidc_client(args: argparse.Namespace, settings: Settings) -> int:
    from backend.oidc import clients

    async def remove(settings: Settings) -> None:
        await _domain(clients.remove(args.name))

    _run(remove, settings)
    print(f"Removed {args.name}.")
    return 0


def rotate_signing_keys(args: argparse.Namespace, settings: Settings) -> int:
    from backend.oidc import keys

    async def rotate(settings: Settings) -> list[Any]:
        return await keys.rotate(_box(settings))

    for made in _run(rotate, settings):
        print(f"Now signing {made.alg} with {made.kid}.")
    print("The previous keys stay published until every token they signed has expired.")
    return 0


def list_signing_keys(args: argparse.Namespace, settings: Settings) -> int:
    from backend.oidc import keys

    async def listed(settings: Settings) -> list[Any]:
        return [(row.kid, row.alg, keys.state_of(row)) for row in await keys.listed()]

    for kid, alg, state in _run(listed, settings):
        print(f"{kid}\t{alg}\t{state}")
    return 0


def _box(settings: Settings) -> Any:
    from backend.kernel.secret_box import SecretBox

    return SecretBox(settings.secret_key)


async def _domain(work: Coroutine[Any, Any, Any]) -> Any:
    try:
        return await work
    except DomainError as error:
        raise CommandFailed("; ".join(p.message for p in error.problems)) from None


def _run(function: Callable[..., Coroutine[Any, Any, Any]], settings: Settings, *args: Any) -> Any:
    async def with_database() -> Any:
        async with _database(settings):
            return await function(settings, *args)

    return asyncio.run(with_database())


@contextlib.asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[None]:
    listen_to_session_ends()  # an operator's command that ends sessions tells applications too
    await Tortoise.init(config=tortoise_config(settings.database_url))
    try:
        await ensure_migrated()
        yield
    finally:
        await Tortoise.close_connections()


async def _check_migrated(settings: Settings) -> None:
    return None  # _database() already refused an unmigrated database


async def _create_user(
    settings: Settings, username: str, email: str, password: str, account_type: str = "USER"
) -> Any:
    from backend.accounts import password_policy
    from backend.accounts.service import create_user
    from backend.administration.authority import COMMAND_LINE
    from backend.administration.telling import record_action

    async def logged(user: Any) -> None:
        await record_action(COMMAND_LINE, "user.created", user, account_type=account_type)

    # The same rules as a user's own password change.
    weak = password_policy.problems(
        password,
        min_length=settings.password_min_length,
        personal=password_policy.personal_words(username, email),
        field="password",
    )
    if weak:
        raise CommandFailed(weak[0].message)
    try:
        return await create_user(
            build_services(settings).hasher,
            username=username,
            email=email,
            password=password,
            account_type=account_type,
            along=logged,
        )
    except DomainError as error:
        raise CommandFailed("; ".join(p.message for p in error.problems)) from None


async def _set_account_type(settings: Settings, username: str, account_type: str) -> bool:
    from backend.accounts.service import find_by_username
    from backend.administration import accounts as administration
    from backend.administration.authority import COMMAND_LINE

    user = await find_by_username(username)
    if user is None:
        raise CommandFailed(f"there is no user {username}")
    services = build_services(settings)
    return await _domain(
        administration.set_account_type(services, COMMAND_LINE, user, account_type)
    )


async def _reset_two_factor(settings: Settings, username: str) -> bool:
    from backend.account_settings.second_factors import reset_by_operator
    from backend.accounts.service import find_by_username

    user = await find_by_username(username)
    if user is None:
        raise CommandFailed(f"there is no user {username}")
    return await reset_by_operator(build_services(settings), user)


async def _send_password_reset(settings: Settings, username: str, email: str | None) -> None:
    from backend.accounts.service import find_by_username, set_email
    from backend.audit.service import record
    from backend.kernel.client_info import ClientInfo
    from backend.recovery import password_reset

    user = await find_by_username(username)
    if user is None:
        raise CommandFailed(f"there is no user {username}")
    if email:
        try:
            await set_email(user, email)
        except DomainError as error:
            raise CommandFailed("; ".join(p.message for p in error.problems)) from None
        await record("email.changed", user=user, by="operator")
    await password_reset.send_link(build_services(settings), user, ClientInfo(), by="operator")


async def _create_group(settings: Settings, name: str, description: str, self_service: bool):
    from backend.accounts import groups

    try:
        return await groups.create(name, description=description, self_service=self_service)
    except DomainError as error:
        raise CommandFailed(error.problems[0].message) from None


async def _change_membership(settings: Settings, action: str, group: str, username: str) -> None:
    from backend.accounts import groups
    from backend.accounts.service import find_by_username

    user = await find_by_username(username)
    if user is None:
        raise CommandFailed(f"there is no user {username}")
    change = groups.add_member if action == "add-member" else groups.remove_member
    try:
        await change(group, user)
    except DomainError as error:
        raise CommandFailed(error.problems[0].message) from None


async def _create_demo_user(settings: Settings, password: str) -> bool:
    from backend.accounts.service import create_user, has_users

    if await has_users():
        return False
    await create_user(
        build_services(settings).hasher,
        username=DEMO_USERNAME,
        email="demo@example.com",
        password=password,
    )
    return True


async def _create_service_client(settings: Settings, name: str) -> Any:
    from backend.serviceclients import service as service_clients

    try:
        return await service_clients.create(name)
    except DomainError as error:
        raise CommandFailed(error.problems[0].message) from None


async def _list_service_clients(settings: Settings) -> Any:
    from backend.serviceclients import service as service_clients

    return await service_clients.list_all()


async def _remove_service_client(settings: Settings, name: str) -> None:
    from backend.serviceclients import service as service_clients

    try:
        await service_clients.remove(name)
    except DomainError:
        raise CommandFailed(f"there is no service client {name}") from None
