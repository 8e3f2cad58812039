"""No password, code or other input value comes back in an error or lands in the log, whatever
the input; and no request can write a long log line."""

from __future__ import annotations

import json
import logging
import shutil

import httpx
import pytest

from backend.infra.logs import JsonFormatter
from tests.conftest import settings_for
from tests.live import live_server

PASSWORD_VALUE = "Pw-that-must-never-echo-4815162342"
OTP_VALUE = "918273"

ISSUE_WITH_INPUT = """
mutation Issue($input: IssueTokenInput!) {
  issueToken(input: $input) { secret userErrors { code } }
}
"""


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """Everything the log handlers were given, as text and as our JSON lines."""
    return caplog.text + "\n".join(JsonFormatter().format(r) for r in caplog.records)


def issue_variables() -> dict:
    return {
        "input": {
            "name": "ci",
            "expiresInDays": 7,
            "password": PASSWORD_VALUE,
            "otp": OTP_VALUE,
        }
    }


async def test_an_unknown_input_field_is_named_but_no_value_is_echoed(client, caplog):
    with caplog.at_level(logging.DEBUG):
        response = await client.post(
            "/graphql", json={"query": ISSUE_WITH_INPUT, "variables": issue_variables()}
        )
    assert response.status_code == 200
    message = response.json()["errors"][0]["message"]
    assert "expiresInDays" in message and "IssueTokenInput" in message
    for secret in [PASSWORD_VALUE, OTP_VALUE]:
        assert secret not in response.text
        assert secret not in logged(caplog)


async def test_a_literal_in_the_document_is_not_echoed_either(client, caplog):
    query = f"""mutation {{ issueToken(input: {{name: "ci", expiresInDays: 7,
        password: "{PASSWORD_VALUE}", otp: "{OTP_VALUE}"}}) {{ secret }} }}"""
    with caplog.at_level(logging.DEBUG):
        response = await client.post("/graphql", json={"query": query})
    message = response.json()["errors"][0]["message"]
    assert "expiresInDays" in message
    for secret in [PASSWORD_VALUE, OTP_VALUE]:
        assert secret not in response.text
        assert secret not in logged(caplog)


@pytest.mark.parametrize(
    "query, variables",
    [
        # A password of the wrong type, as a variable and as a literal.
        (
            'mutation($p: String!) { signIn(input: {username: "alice", password: $p}) { status } }',
            {"p": [PASSWORD_VALUE]},
        ),
        (
            'mutation { signIn(input: {username: "alice", password: ['
            f'"{PASSWORD_VALUE}"]}}) {{ status }} }}',
            {},
        ),
        # The whole input where a string is expected, and a secret where an object is.
        (
            'mutation($u: String!) { signIn(input: {username: $u, password: "x"}) { status } }',
            {"u": {"password": PASSWORD_VALUE}},
        ),
        (ISSUE_WITH_INPUT, {"input": f"{PASSWORD_VALUE} {OTP_VALUE}"}),
        # A required field missing next to the secrets.
        (ISSUE_WITH_INPUT, {"input": {"password": PASSWORD_VALUE, "otp": OTP_VALUE}}),
    ],
)
async def test_values_of_the_wrong_shape_are_not_echoed(client, caplog, query, variables):
    with caplog.at_level(logging.DEBUG):
        response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200
    assert response.json()["errors"][0]["message"]
    for secret in [PASSWORD_VALUE, OTP_VALUE]:
        assert secret not in response.text
        assert secret not in logged(caplog)


async def test_messages_that_quote_no_value_are_kept_whole(client):
    response = await client.post("/graphql", json={"query": ISSUE_WITH_INPUT})
    [error] = response.json()["errors"]
    assert error["message"] == (
        "Variable '$input' has invalid value: "
        "Expected a value of non-null type 'IssueTokenInput!' to be provided."
    )
    unused = "query($unused: String) { __typename }"
    response = await client.post("/graphql", json={"query": unused})
    [error] = response.json()["errors"]
    assert error["message"] == "Variable '$unused' is never used."


async def test_a_malformed_request_is_not_logged_as_an_error(client, caplog):
    with caplog.at_level(logging.DEBUG):
        await client.post(
            "/graphql", json={"query": ISSUE_WITH_INPUT, "variables": issue_variables()}
        )
    assert caplog.records, "the refusal is still worth a line"
    assert all(record.levelno < logging.ERROR for record in caplog.records)


async def test_a_quarter_million_character_username_writes_only_short_log_lines(client, caplog):
    username = "a" * 250_000
    query = """mutation($u: String!, $p: String!) {
      signIn(input: {username: $u, password: $p}) { status userErrors { code } } }"""
    # Once as a valid request, once with a mistake that makes the server quote the input.
    requests = [
        {"u": username, "p": PASSWORD_VALUE},
        {"u": username, "p": PASSWORD_VALUE, "extra": 1},
        {"u": [username], "p": PASSWORD_VALUE},
    ]
    with caplog.at_level(logging.DEBUG):
        for variables in requests:
            response = await client.post("/graphql", json={"query": query, "variables": variables})
            assert response.status_code in (200, 413)
    lines = [JsonFormatter().format(record) for record in caplog.records]
    assert lines
    longest = max(len(line) for line in lines)
    assert longest < 25_000, f"a log line of {longest} characters"


def test_a_long_log_value_is_cut_with_a_marker():
    record = logging.makeLogRecord(
        {"name": "latchkey", "levelname": "INFO", "msg": "user %s", "args": ("u" * 100_000,)}
    )
    record.__dict__["username"] = "v" * 100_000
    entry = json.loads(JsonFormatter().format(record))
    assert len(entry["message"]) < 2_000 and "more characters" in entry["message"]
    assert len(entry["username"]) < 2_000 and "more characters" in entry["username"]


def test_a_secret_named_field_in_a_log_record_is_redacted():
    record = logging.makeLogRecord({"name": "latchkey", "levelname": "INFO", "msg": "event"})
    record.__dict__["details"] = {"password": PASSWORD_VALUE, "token_id": 7, "otp": OTP_VALUE}
    entry = json.loads(JsonFormatter().format(record))
    assert PASSWORD_VALUE not in json.dumps(entry) and OTP_VALUE not in json.dumps(entry)
    assert entry["details"]["token_id"] == 7


def test_the_served_process_logs_no_password_or_code(tmp_path, sqlite_template):
    database = tmp_path / "live.sqlite3"
    shutil.copy(sqlite_template, database)
    log_path = tmp_path / "server.log"
    settings = settings_for(f"sqlite://{database}")
    with live_server(settings, log=log_path, LATCHKEY_LOG_LEVEL="DEBUG") as url:
        response = httpx.post(
            f"{url}/graphql", json={"query": ISSUE_WITH_INPUT, "variables": issue_variables()}
        )
        assert "expiresInDays" in response.text
    log = log_path.read_text()
    assert "expiresInDays" in log, "the refusal is logged, without the values"
    for secret in [PASSWORD_VALUE, OTP_VALUE]:
        assert secret not in response.text
        assert secret not in log
