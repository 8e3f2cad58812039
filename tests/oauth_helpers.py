"""Helpers for tests against `latchkey serve` subprocesses."""

from __future__ import annotations

import subprocess

from tests.helpers import PASSWORD
from tests.live import LATCHKEY, environment


def create_user(settings, username: str = "alice") -> None:
    subprocess.run(
        [
            str(LATCHKEY),
            "user",
            "create",
            username,
            "--email",
            f"{username}@example.com",
            "--password-stdin",
        ],
        input=PASSWORD,
        text=True,
        check=True,
        capture_output=True,
        env=environment(settings),
    )
