"""The keys that sign ID tokens: made once per algorithm, sealed at rest, published at
/oauth/jwks without their private parts, and rotated without breaking tokens already out."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError
from joserfc.jwk import KeySet

from backend.kernel import clock
from backend.kernel.secret_box import SecretBox
from backend.oidc import keys
from backend.oidc.models import SigningKey

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi"}


@pytest.fixture
def box(settings) -> SecretBox:
    return SecretBox(settings.secret_key)


async def published(client) -> dict:
    answer = await client.get("/oauth/jwks")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert "max-age" in answer.headers["cache-control"]
    return answer.json()


async def test_the_jwks_publishes_one_key_per_algorithm_and_no_private_part(app, client, box):
    body = await published(client)
    assert sorted(key["alg"] for key in body["keys"]) == ["ES256", "RS256"]
    for key in body["keys"]:
        assert key["kid"] and key["use"] == "sig"
        assert not PRIVATE_MEMBERS & set(key), key
    # At rest the private key is sealed: its "d" is nowhere in the row.
    row = await SigningKey.get(alg="ES256")
    private = keys.private_key(box, row).as_dict(private=True)
    assert private["d"] not in row.sealed_jwk and "BEGIN" not in row.sealed_jwk
    assert (await published(client)) == body  # made once, then the same


async def test_workers_making_the_first_keys_at_once_make_one_per_algorithm(app, box):
    await asyncio.gather(*(keys.ensure(box) for _ in range(6)))
    assert sorted(await SigningKey.all().values_list("alg", flat=True)) == ["ES256", "RS256"]


async def test_a_rotation_signs_with_a_new_key_and_old_tokens_verify_until_they_expire(
    app, client, box
):
    old_key = await keys.signing_key(box)
    claims = {"iss": "http://localhost:8000", "sub": "1", "aud": "platform"}
    old_token = jwt.encode({"alg": "ES256", "kid": old_key.kid}, claims, old_key)

    await keys.rotate(box)
    new_key = await keys.signing_key(box)
    assert new_key.kid != old_key.kid
    body = await published(client)
    assert {old_key.kid, new_key.kid} <= {key["kid"] for key in body["keys"]}
    verified = jwt.decode(old_token, KeySet.import_key_set(body), algorithms=["ES256"])
    assert verified.claims["sub"] == "1"
    new_token = jwt.encode({"alg": "ES256", "kid": new_key.kid}, claims, new_key)
    jwt.decode(new_token, KeySet.import_key_set(body), algorithms=["ES256"])

    # Once every token the old key signed has expired, it is no longer published.
    clock.advance(keys.ID_TOKEN_LIFETIME + keys.LEEWAY + timedelta(seconds=1))
    later = await published(client)
    assert old_key.kid not in {key["kid"] for key in later["keys"]}
    with pytest.raises(InvalidKeyIdError):
        jwt.decode(old_token, KeySet.import_key_set(later), algorithms=["ES256"])


def test_the_operator_rotates_and_lists_the_keys(database_url):
    from tests.conftest import settings_for
    from tests.test_cli import latchkey

    cli_settings = settings_for(database_url)
    made = latchkey(cli_settings, "migrate")
    assert made.returncode == 0 and "Made the ES256 signing key" in made.stdout
    again = latchkey(cli_settings, "migrate")
    assert "signing key" not in again.stdout  # made once
    before = latchkey(cli_settings, "signing-key", "list").stdout.splitlines()
    assert [line.split("\t")[2] for line in before] == ["signing", "signing"]
    rotated = latchkey(cli_settings, "signing-key", "rotate")
    assert rotated.returncode == 0 and rotated.stdout.count("Now signing") == 2
    listed = latchkey(cli_settings, "signing-key", "list").stdout.splitlines()
    after = [line.split("\t") for line in listed]
    states = sorted(state.split(" ")[0] for _, _, state in after)
    assert states == ["published", "published", "signing", "signing"]
    assert len({kid for kid, _, _ in after}) == 4
