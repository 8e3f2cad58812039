"""Logs are JSON lines and carry no secrets."""

from __future__ import annotations

import json
import logging

from backend.logs import JsonFormatter
from tests.helpers import PASSWORD, make_user


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
