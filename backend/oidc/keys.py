"""Signing keys: made at first start (or by `latchkey migrate`), one per algorithm; a rotation
signs with a new key at once and keeps the old one published until every ID token it
signed has expired."""

from __future__ import annotations

import json
import secrets
import weakref
from datetime import timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from backend.infra import hot_sql
from backend.kernel import clock
from backend.kernel.secret_box import SecretBox
from backend.oidc.models import SigningKey

ALGORITHMS = ("ES256", "RS256")  # ES256 by default; RS256 for clients that ask for it
ID_TOKEN_LIFETIME = timedelta(hours=1)
# Clocks differ: a relying party may still check a token a little after it expired.
LEEWAY = timedelta(minutes=5)


# The key that signs an algorithm now ($1), read for every token.
_SIGNING = "SELECT * FROM oidc_signing_keys WHERE signing_for = $1"


def _sealed_for(kid: str) -> str:
    return f"signing-key:{kid}"


def _new_jwk(alg: str, kid: str) -> Any:
    from joserfc.jwk import ECKey, RSAKey  # loaded where keys are made or used

    parameters = {"kid": kid, "use": "sig", "alg": alg}
    if alg == "ES256":
        return ECKey.generate_key("P-256", parameters=parameters)
    return RSAKey.generate_key(2048, parameters=parameters)


def _new_row(box: SecretBox, alg: str) -> SigningKey:
    kid = f"{alg.lower()}-{clock.now():%Y%m%d}-{secrets.token_hex(4)}"
    private = json.dumps(_new_jwk(alg, kid).as_dict(private=True))
    return SigningKey(
        kid=kid, alg=alg, signing_for=alg, sealed_jwk=box.seal(private, bound_to=_sealed_for(kid))
    )


async def ensure(box: SecretBox) -> list[SigningKey]:
    """A signing key for each algorithm; the ones made now. Safe from several workers."""
    made = []
    for alg in ALGORITHMS:
        if await SigningKey.filter(signing_for=alg).exists():
            continue
        row = _new_row(box, alg)
        try:
            await row.save()
        except IntegrityError:  # another worker made it first
            continue
        made.append(row)
    return made


async def rotate(box: SecretBox) -> list[SigningKey]:
    """New keys sign from now on; the old ones stay published until their tokens expire."""
    now = clock.now()
    made = []
    async with in_transaction():
        for alg in ALGORITHMS:
            await SigningKey.filter(signing_for=alg).update(
                signing_for=None,
                retired_at=now,
                published_until=now + ID_TOKEN_LIFETIME + LEEWAY,
            )
            row = _new_row(box, alg)
            await row.save()
            made.append(row)
    return made


async def listed() -> list[SigningKey]:
    return await SigningKey.all().order_by("-id")


async def published() -> list[SigningKey]:
    """The keys a relying party may need: those signing now and those whose tokens live."""
    now = clock.now()
    keys = await SigningKey.all().order_by("-id")
    return [key for key in keys if key.published_until is None or key.published_until > now]


async def jwks(box: SecretBox) -> dict[str, Any]:
    """The public halves, as a JSON Web Key Set (no private member ever)."""
    from joserfc.jwk import KeySet

    keys = [private_key(box, row) for row in await published()]
    return KeySet(keys).as_dict(private=False)


# Keys opened and imported, per box, by what was sealed: opening and importing a key costs
# more than a signature. The row that says which key signs is still read for every token,
# so a rotation on another worker takes effect at once.
_opened: weakref.WeakKeyDictionary[SecretBox, dict[tuple[str, str], Any]] = (
    weakref.WeakKeyDictionary()
)


def private_key(box: SecretBox, row: SigningKey) -> Any:
    from joserfc.jwk import JWKRegistry

    opened = _opened.setdefault(box, {})
    sealed = (row.kid, row.sealed_jwk)
    key = opened.get(sealed)
    if key is None:
        data = json.loads(box.open(row.sealed_jwk, bound_to=_sealed_for(row.kid)))
        key = opened[sealed] = JWKRegistry.import_key(data)
    return key


async def signing_key(box: SecretBox, alg: str = "ES256") -> Any:
    """The key that signs `alg` tokens now (made if there is none yet)."""
    rows = await hot_sql.fetch_models(SigningKey, _SIGNING, [alg])
    row = rows[0] if rows else None
    if row is None:
        await ensure(box)
        row = await SigningKey.get(signing_for=alg)
    return private_key(box, row)


def state_of(row: SigningKey) -> str:
    if row.signing_for:
        return "signing"
    if row.published_until and row.published_until > clock.now():
        return f"published until {row.published_until.isoformat(timespec='seconds')}"
    return "retired"
