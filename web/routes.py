"""Every HTML route of the site, wired to one in-process GraphQL client, behind the edge."""

from __future__ import annotations

from starlette.routing import BaseRoute
from strawberry import Schema

from backend.auth.services import Services
from web import edge, site
from web.account_pages import AccountPages
from web.admin_gate import AdminGate
from web.admin_group_pages import AdminGroupPages
from web.admin_pages import AdminPages
from web.application_pages import ApplicationPages
from web.deletion_pages import DeletionPages
from web.graphql_client import GraphQLClient
from web.language_pages import LanguagePages
from web.passkey_pages import PasskeyPages
from web.reauthentication_pages import ReauthenticationPages
from web.recovery_pages import RecoveryPages
from web.sections import Renderer
from web.signin_pages import SignInPages
from web.tokens_pages import TokenPages
from web.twofactor_pages import TwoFactorPages


def routes(schema: Schema, services: Services) -> list[BaseRoute]:
    renderer = Renderer(GraphQLClient(schema, services), services)
    gate = AdminGate(renderer)
    pages = [
        *SignInPages(renderer).routes(),
        *ReauthenticationPages(renderer).routes(),
        *AccountPages(renderer).routes(),
        *TokenPages(renderer).routes(),
        *ApplicationPages(renderer).routes(),
        *DeletionPages(renderer).routes(),
        *TwoFactorPages(renderer).routes(),
        *PasskeyPages(renderer).routes(),
        *RecoveryPages(renderer).routes(),
        *LanguagePages(renderer).routes(),
        *AdminPages(renderer, gate).routes(),
        *AdminGroupPages(renderer, gate).routes(),
    ]
    return [*edge.behind_edge(pages, services), *site.routes()]
