"""Real servers on loopback that receive what Latchkey sends: SMTP (aiosmtpd) and an SMS webhook."""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

from backend.kernel import clock
from tests.live import free_port


class SmtpOutbox:
    """Collects every message the SMTP server accepted."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]

    @staticmethod
    def text(message: EmailMessage) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


@contextlib.contextmanager
def smtp_server() -> Iterator[tuple[SmtpOutbox, int]]:
    outbox = SmtpOutbox()
    port = free_port()
    controller = Controller(outbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield outbox, port
    finally:
        controller.stop()


class SmsInbox:
    def __init__(self) -> None:
        self.messages: list[dict] = []
        self.headers: list[dict[str, str]] = []


@contextlib.contextmanager
def sms_webhook() -> Iterator[tuple[SmsInbox, str]]:
    inbox = SmsInbox()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            length = int(self.headers.get("content-length", "0"))
            inbox.messages.append(json.loads(self.rfile.read(length)))
            inbox.headers.append(dict(self.headers.items()))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield inbox, f"http://127.0.0.1:{server.server_address[1]}/sms"
    finally:
        server.shutdown()
        server.server_close()


class WebhookInbox:
    """What a webhook receiver got: each POST's headers and raw body, in order. `answers`:
    the status codes to answer with, one per request (then 204); a redirect goes to
    `/elsewhere`, which records that it was reached."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.answers: list[int] = []
        self.elsewhere = 0
        self.port = 0

    def of_type(self, kind: str) -> list[tuple[dict[str, str], bytes]]:
        return [(h, body) for h, body in self.received if json.loads(body)["type"] == kind]


@contextlib.contextmanager
def webhook_receiver(inbox: WebhookInbox | None = None, port: int = 0) -> Iterator[WebhookInbox]:
    """A real HTTP server on loopback receiving webhooks; restart it on `inbox.port` to
    stand for a receiver that was down."""
    inbox = inbox or WebhookInbox()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            if self.path == "/elsewhere":
                inbox.elsewhere += 1
            else:
                inbox.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            status = inbox.answers.pop(0) if inbox.answers else 204
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("location", "/elsewhere")
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        allow_reuse_address = True
        request_queue_size = 128  # several workers send at once; the default backlog is 5

    server = Server(("127.0.0.1", port), Handler)
    inbox.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield inbox
    finally:
        server.shutdown()
        server.server_close()


BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"


class LogoutInbox:
    """A relying party's back-channel logout endpoint (OIDC Back-Channel Logout 1.0 §2.8):
    each logout token it accepted, as the specification says to validate it, against the
    issuer's published keys (`keys`, from /oauth/jwks) and its own client_id (`audience`).
    A token that fails is answered 400 and its reason kept in `refused`; `answers`: status
    codes to answer with first, whatever the request (then the checks decide)."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self.audience = ""
        self.keys: object = None
        self.accepted: list[dict] = []
        self.refused: list[str] = []
        self.answers: list[int] = []
        self.requests = 0
        self.url = ""

    def check(self, content_type: str, body: bytes) -> dict:
        from urllib.parse import parse_qs

        from joserfc import jwt

        assert content_type.startswith("application/x-www-form-urlencoded"), content_type
        form = parse_qs(body.decode(), strict_parsing=True)
        assert list(form) == ["logout_token"] and len(form["logout_token"]) == 1, form
        token = jwt.decode(form["logout_token"][0], self.keys, algorithms=["ES256", "RS256"])
        assert token.header.get("typ") == "logout+jwt", token.header
        jwt.JWTClaimsRegistry(
            now=lambda: int(clock.now().timestamp()),  # its clock agrees with Latchkey's
            leeway=5,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.audience},
            iat={"essential": True},
            exp={"essential": True},
            jti={"essential": True},
            sub={"essential": True},
            sid={"essential": True},
        ).validate(token.claims)
        assert token.claims.get("events") == {BACKCHANNEL_LOGOUT_EVENT: {}}, token.claims
        assert "nonce" not in token.claims, token.claims
        return {**token.claims, "alg": token.header["alg"]}


@contextlib.contextmanager
def backchannel_logout_receiver(issuer: str) -> Iterator[LogoutInbox]:
    """A real HTTP server on loopback standing for one application's logout endpoint."""
    inbox = LogoutInbox(issuer)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            inbox.requests += 1
            status = inbox.answers.pop(0) if inbox.answers else 0
            if not status:
                try:
                    inbox.accepted.append(inbox.check(self.headers.get("content-type", ""), body))
                    status = 200
                except Exception as refusal:  # noqa: BLE001 (any reason is a refusal)
                    inbox.refused.append(f"{type(refusal).__name__}: {refusal}")
                    status = 400
            self.send_response(status)
            self.send_header("cache-control", "no-store")
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    inbox.url = f"http://127.0.0.1:{server.server_address[1]}/backchannel-logout"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield inbox
    finally:
        server.shutdown()
        server.server_close()
