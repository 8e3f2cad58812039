"""Generated input over the whole schema: odd strings never get a 5xx or a masked error.

Hypothesis writes queries and mutations from the schema (hypothesis-graphql), filling every
String and ID with the kinds of input that broke things before: NUL, astral characters,
superscript digits, 20-digit numbers and over-long strings. Each answer must be a clear one:
a userError, a GraphQL validation error, or data; never a 5xx and never "Unexpected error.".
The run is bounded and derandomized, so CI sees the same examples every time.
"""

from __future__ import annotations

import asyncio
import json
import string

import graphql
import hypothesis_graphql
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from backend.api.schema import build_schema
from tests.helpers import exchange, issue_token

schema = build_schema()

ODD_STRINGS = (
    "",
    "\x00",
    "alice\x00",
    "\x00" * 3,
    "²",
    "١٢٣",  # Arabic-Indic digits: isdigit() says yes, int() agrees, the database would not
    "12345678901234567890",
    "99999999999999999999",
    "9223372036854775807",
    "9223372036854775808",
    "-1",
    "0",
    "1",
    "😀",
    "𝔞𝔩𝔦𝔠𝔢",
    "\u202eevil",
    "lone \ud800 surrogate",
    "\r\nBcc: x@y.z",
    "x" * 241,
    "7" * 1000,
    "a" * 10_000,
    "ZXZlbnQ6OTk5OTk5OTk5OTk5OTk5OTk5OTk5",  # base64 "event:" + 21 digits, a forged cursor
    "ZXZlbnQ6wrI=",  # base64 "event:²"
)
TEXT = st.one_of(
    st.sampled_from(ODD_STRINGS),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
    st.text(alphabet=string.digits + "\x00²", min_size=15, max_size=25),
)
DATETIMES = st.sampled_from(
    ("2030-01-01T00:00:00+00:00", "2030-01-01T00:00:00", "not a date", "\x00", "99999-01-01")
)
SCALARS = {
    "String": TEXT.map(lambda value: graphql.StringValueNode(value=value)),
    "ID": TEXT.map(lambda value: graphql.StringValueNode(value=value)),
    "DateTime": DATETIMES.map(lambda value: graphql.StringValueNode(value=value)),
}
SDL = schema.as_str()
# Ending the session or token under test would leave the rest of the run anonymous; these
# three get their odd ids in test_odd_input.py.
ENDS_THE_CALLER = {"signOut", "revokeSession", "deleteToken"}
MUTATIONS = [
    name for name in graphql.build_schema(SDL).mutation_type.fields if name not in ENDS_THE_CALLER
]
OPERATIONS = st.one_of(
    hypothesis_graphql.queries(SDL, custom_scalars=SCALARS),
    hypothesis_graphql.mutations(SDL, fields=MUTATIONS, custom_scalars=SCALARS),
)
# An administrator's run: the same, except what may end the administrator's own session
# or account (another administrator made on the way could let it).
ADMIN_OPERATIONS = st.one_of(
    hypothesis_graphql.queries(SDL, custom_scalars=SCALARS),
    hypothesis_graphql.mutations(
        SDL,
        fields=[name for name in MUTATIONS if name not in {"endUserSessions", "disableUser"}],
        custom_scalars=SCALARS,
    ),
)
JSON = {"Content-Type": "application/json"}
# No shrinking: a failure is reported as found, and the run stays within its bound.
BOUNDS = settings(
    max_examples=150,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


async def _probe(client, headers: dict[str, str], operations=OPERATIONS) -> dict | None:
    """Run the generated operations; the viewer afterwards, to show who they ran as."""
    loop = asyncio.get_running_loop()

    @BOUNDS
    @given(operations)
    def answers_clearly(query: str) -> None:
        # ASCII JSON, so that a lone surrogate travels as the escape a client could send.
        body = json.dumps({"query": query}, ensure_ascii=True)
        post = client.post("/graphql", content=body, headers={**JSON, **headers})
        response = asyncio.run_coroutine_threadsafe(post, loop).result()
        assert response.status_code < 500, f"{query}\n{response.text}"
        assert "Unexpected error." not in response.text, f"{query}\n{response.text}"

    # Hypothesis drives a blocking test; the app keeps running on this loop meanwhile.
    await asyncio.to_thread(answers_clearly)
    viewer = await client.post("/graphql", json={"query": "{ viewer { id } }"}, headers=headers)
    return viewer.json()["data"]["viewer"]


async def test_anonymous_requests_get_clear_answers(client):
    assert await _probe(client, {}) is None


async def test_signed_in_requests_get_clear_answers(client, alice):
    assert await _probe(client, {}) is not None  # signed in from the first to the last


async def test_bearer_token_requests_get_clear_answers(client, gql, new_client, alice):
    refresh_token = (await issue_token(gql))["secret"]
    access_token = (await exchange(client, refresh_token)).json()["access_token"]
    async with new_client() as script:
        assert await _probe(script, {"Authorization": f"Bearer {access_token}"}) is not None


async def test_administrator_requests_get_clear_answers(client, gql, settings):
    from tests.admin_helpers import make_administrator
    from tests.helpers import make_user

    for name in ("ann", "ben", "cat", "dan"):  # so that the administrator is not id 1
        await make_user(settings, name)
    await make_administrator(settings, "root1")
    await gql.sign_in("root1")
    assert await _probe(client, {}, ADMIN_OPERATIONS) is not None
