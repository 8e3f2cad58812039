"""The GraphQL schema: the query root, the merged feature mutations, and the limits."""

from __future__ import annotations

import functools

import strawberry
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
)
from strawberry.extensions.max_aliases import create_validator as alias_limit
from strawberry.extensions.query_depth_limiter import create_validator as depth_limit
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import Info

from backend.account_settings.profile import time_zones
from backend.accounts import password_policy
from backend.api import admin, applications, recovery
from backend.api.account import AccountMutations
from backend.api.admin import AdminMutations
from backend.api.admin_types import Administration
from backend.api.applications import ApplicationMutations
from backend.api.context import Context
from backend.api.engine.document_limits import MAX_ALIASES, DocumentLimiter
from backend.api.engine.error_reporting import Schema, is_unexpected
from backend.api.engine.introspection_cache import IntrospectionByText
from backend.api.engine.scope_guard import MUTATION, QUERY, limit_account_data, limit_bearer_scopes
from backend.api.engine.validation_cache import ValidationByText
from backend.api.lifecycle import LifecycleMutations
from backend.api.passkeys import PasskeyMutations
from backend.api.reauthentication import ReauthenticationMutations
from backend.api.recovery import RecoveryMutations
from backend.api.signin import SignInMutations
from backend.api.token_types import TokenScope, available_scopes
from backend.api.tokens import TokenMutations
from backend.api.twofactor import TwoFactorMutations
from backend.api.types import User


@strawberry.type(description="What a new password must be; no composition rules.")
class PasswordPolicy:
    min_length: int
    max_length: int


@strawberry.type
class Query:
    @strawberry.field(description="The signed-in user; null when the request is not signed in.")
    def viewer(self, info: Info[Context, None]) -> User | None:
        user = info.context.viewer
        return User.from_model(user) if user else None

    @strawberry.field
    def password_policy(self, info: Info[Context, None]) -> PasswordPolicy:
        return PasswordPolicy(
            min_length=info.context.services.settings.password_min_length,
            max_length=password_policy.MAX_LENGTH,
        )

    password_reset_link = strawberry.field(
        resolver=recovery.password_reset_link,
        description="The reset link of a token from an email; null when it is unknown, used "
        "or expired. Its page asks before the new password is typed.",
    )

    application = strawberry.field(
        resolver=applications.application,
        description="The application a sign-in request names, for the consent page; null "
        "unless the redirect URI is one it registered.",
    )

    @strawberry.field(
        description="What administrators see and manage; null unless the viewer is an "
        "administrator. A bearer token needs admin:read."
    )
    def admin(self, info: Info[Context, None]) -> Administration | None:
        return admin.admin(info)

    @strawberry.field(description="The IANA time zone names timeZone accepts, sorted.")
    def time_zones(self) -> list[str]:
        return sorted(time_zones())

    @strawberry.field(description="The scopes tokens and API credentials may be given.")
    def token_scopes(self, info: Info[Context, None]) -> list[TokenScope]:
        return available_scopes(info)


Mutation = merge_types(
    "Mutation",
    (
        SignInMutations,
        ReauthenticationMutations,
        AccountMutations,
        TokenMutations,
        TwoFactorMutations,
        PasskeyMutations,
        RecoveryMutations,
        ApplicationMutations,
        LifecycleMutations,
        AdminMutations,
    ),
)
# Bearer tokens: every root field is checked against the token's scopes, in one place.
limit_bearer_scopes(Query, QUERY)
limit_bearer_scopes(Mutation, MUTATION)
# ...and account data needs its own scope wherever a document reaches it, payloads included.
limit_account_data(Query, Mutation)


# Built once: the validation cache keys on the rule classes, and QueryDepthLimiter or
# MaxAliasesLimiter instantiated per request would make a new class every time.
LIMITS = (depth_limit(10, None, None), alias_limit(MAX_ALIASES))
MAX_TOKENS = 300


def build_schema(*, introspection: bool = True) -> strawberry.Schema:
    extensions = [
        functools.partial(AddValidationRules, list(LIMITS)),
        # Parsing and validating cost about 25 us a token. GraphiQL's introspection query is
        # 191 tokens; the pages' documents are under 100.
        functools.partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
        # Mask bugs and infrastructure failures; keep validation and syntax errors readable.
        functools.partial(MaskErrors, should_mask_error=is_unexpected),
        # Before the parser cache: it refuses documents too long to parse, and once parsed,
        # documents too costly to validate.
        DocumentLimiter,
        functools.partial(ParserCache, maxsize=256),
        ValidationByText,
        IntrospectionByText,
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    # Without introspection, "Did you mean ...?" would still spell out the schema.
    config = StrawberryConfig(disable_field_suggestions=not introspection)
    return Schema(query=Query, mutation=Mutation, extensions=extensions, config=config)
