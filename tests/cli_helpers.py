"""Helpers for tests that use the `latchkey` command, as an operator would."""

from __future__ import annotations

import subprocess

from backend.infra.config import Settings
from tests.helpers import PASSWORD
from tests.live import LATCHKEY, environment


def create_user(settings: Settings, username: str = "alice", password: str = PASSWORD) -> None:
    """`latchkey user create`, with the password on standard input."""
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
        input=password,
        text=True,
        check=True,
        capture_output=True,
        env=environment(settings),
    )
