"""Logs are JSON lines and carry no secrets."""

from __future__ import annotations

import json
import logging

from backend.logs import JsonFormatter
from tests.helpers import ISSUE_TOKEN, PASSWORD, days_ahead, exchange, make_user
from tests.twofactor_helpers import enable_totp, next_time_step, oathtool, verify


def test_a_record_is_one_json_line_even_with_newlines_in_it():
    record = logging.makeLogRecord(
        {
            "name": "latchkey.security",
            "levelname": "INFO",
            "msg": "user %s",
            "args": ("x\nFAKE ENTRY",),
            "event": "sign_in.failed",
        }
    )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "user x\nFAKE ENTRY" and entry["event"] == "sign_in.failed"
    assert entry["ts"].endswith("Z")


async def test_signing_in_logs_no_password_and_no_session_cookie(gql, client, settings, caplog):
    await make_user(settings, "alice")
    with caplog.at_level(logging.DEBUG):
        await gql.sign_in("alice", "a wrong password guess")
        await gql.sign_in("alice")
    cookie = client.cookies["latchkey_session"]
    logged = caplog.text + "".join(JsonFormatter().format(r) for r in caplog.records)
    assert "sign_in.succeeded" in logged
    for secret in [PASSWORD, "a wrong password guess", cookie]:
        assert secret not in logged


async def test_tokens_codes_and_recovery_codes_stay_out_of_the_log(gql, client, alice, caplog):
    with caplog.at_level(logging.DEBUG):
        secret, recovery = await enable_totp(gql)
        client.cookies.clear()
        challenge = (await gql.sign_in("alice"))["challenge"]
        code = oathtool(secret)
        await verify(gql, challenge, code)
        next_time_step()
        refresh = (await gql(ISSUE_TOKEN, token_variables(oathtool(secret))))["issueToken"]
        access = (await exchange(client, refresh["secret"])).json()["access_token"]
    logged = caplog.text + "".join(JsonFormatter().format(r) for r in caplog.records)
    assert "token.issued" in logged
    for value in [secret, code, *recovery, challenge, refresh["secret"], access]:
        assert value not in logged


def token_variables(otp: str) -> dict:
    return {"name": "ci", "expiresAt": days_ahead(7), "password": PASSWORD, "otp": otp}
