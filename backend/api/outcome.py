"""What an operation did to the browser's session and device, for the edge to turn into cookies.

Resolvers only record it; /graphql and the pages decide how it reaches the browser.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class SessionOutcome:
    # The token of a session started (or renewed) by the operation; the last one wins.
    started_token: str = ""
    ended: bool = False
    remembered_device: str = ""
    # The cookie of a browser that signed in to the account (auth/signin/known_browsers.py).
    known_browser: str = ""

    def session_started(self, token: str) -> None:
        self.started_token, self.ended = token, False

    def session_ended(self) -> None:
        self.started_token, self.ended = "", True

    def device_remembered(self, cookie: str) -> None:
        self.remembered_device = cookie

    def browser_known(self, cookie: str) -> None:
        self.known_browser = cookie
