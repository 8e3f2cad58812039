"""Settings, read once from `LATCHKEY_*` environment variables."""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from urllib.parse import urlsplit

DEFAULT_DATABASE_URL = "sqlite://latchkey.sqlite3"
DEFAULT_SECRET_KEY_FILE = "latchkey.secret"


def usable_cpus() -> int:
    """The CPUs this process may run on, as a default for the hashes run at once (at most 4).

    More argon2 hashes than CPUs only take turns, each pushing the others' memory out of
    the cache: on one CPU, four at once sign in about 15% fewer users than one at a time.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(4, cpus))


class ConfigError(ValueError):
    """A setting has a value Latchkey cannot use."""


@dataclasses.dataclass(frozen=True)
class SmtpSettings:
    host: str = ""  # empty: messages go to the log instead
    port: int = 587
    security: str = "starttls"  # starttls, tls (implicit TLS), or none
    username: str = ""
    password: str = ""
    sender: str = "Latchkey <latchkey@localhost>"


@dataclasses.dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = ""
    public_url: str = "http://localhost:8000"
    session_idle: timedelta = timedelta(hours=1)
    reauth_window: timedelta = timedelta(minutes=10)
    session_absolute: timedelta = timedelta(hours=12)
    # argon2id cost; OWASP's first recommended parameter set.
    argon2_memory_kib: int = 19456
    argon2_time_cost: int = 2
    argon2_parallelism: int = 1
    max_concurrent_hashes: int = dataclasses.field(default_factory=usable_cpus)
    graphiql: bool = True
    trusted_proxies: tuple[str, ...] = ()
    # Origins (https://app.example.com) a sign-in may go on to besides the public URL's:
    # the applications a reverse proxy protects (/login?next=).
    trusted_origins: tuple[str, ...] = ()
    # A parent domain (example.com) the session cookie is shared with, for forward auth on
    # sibling hosts; empty: the cookie stays with the public URL's host.
    cookie_domain: str = ""
    max_body_bytes: int = 256 * 1024
    # Past either, a request answers 503 instead of waiting on a locked or stuck database:
    # how long one statement may run or wait for a lock, and for a connection.
    database_statement_seconds: int = 10
    database_acquire_seconds: int = 5
    log_level: str = "INFO"
    # "json": one JSON object a line, for log pipelines; "text": lines for a person;
    # "auto": text on a terminal, else JSON.
    log_format: str = "auto"
    # Webhooks: how long one delivery attempt may wait (at most 10 s), and whether this
    # process sends them (every worker does unless told not to).
    webhook_timeout_seconds: int = 10
    webhook_delivery: bool = True
    issuer: str = "Latchkey"
    password_min_length: int = 15
    trusted_device_days: int = 30
    token_max_days: int = 365  # 0: tokens may be issued without an expiry
    max_tokens_per_user: int = 100  # live (unexpired, undeleted) refresh tokens
    access_token_seconds: int = 300
    password_reset_seconds: int = 3600  # how long an emailed reset link works
    # Account deletion: the days between scheduling and deleting (0: at once), whether users
    # may delete their own accounts, and how long a deleted account's security log rows
    # (under a pseudonym) are kept, counted from each row's time.
    account_deletion_days: int = 7
    self_deletion: bool = True
    audit_retention_days: int = 365
    # Token scopes: the platform's own as `name=description;...`, and what a token gets
    # when none are asked for; backend.tokens.scopes reads both.
    scopes: str = ""
    default_scopes: str = "account:read"
    token_rotation_grace_seconds: int = 86400
    smtp: SmtpSettings = dataclasses.field(default_factory=lambda: SmtpSettings())
    sms_webhook_url: str = ""
    sms_webhook_secret: str = ""
    # The port `/metrics` is served on (Prometheus' text format), apart from the
    # application's; 0: no metrics are served.
    metrics_port: int = 0

    @property
    def secure_cookies(self) -> bool:
        return urlsplit(self.public_url).scheme == "https"

    @property
    def session_cookie_name(self) -> str:
        if not self.secure_cookies:
            return "latchkey_session"
        # __Host- cookies may not name a domain; __Secure- ones may.
        return "__Secure-latchkey_session" if self.cookie_domain else "__Host-latchkey_session"

    @property
    def sign_in_origins(self) -> tuple[str, ...]:
        """Where a sign-in may go on to (/login?next=): this server and the trusted origins."""
        return (origin_of(self.public_url), *self.trusted_origins)

    @property
    def device_cookie_name(self) -> str:
        return "__Host-latchkey_device" if self.secure_cookies else "latchkey_device"

    @property
    def known_browser_cookie_name(self) -> str:
        return "__Host-latchkey_known" if self.secure_cookies else "latchkey_known"

    @property
    def csrf_cookie_name(self) -> str:
        return "__Host-latchkey_csrf" if self.secure_cookies else "latchkey_csrf"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        reader = _Reader(env)
        public_url = reader.text("PUBLIC_URL", cls.public_url).rstrip("/")
        return cls(
            database_url=reader.text("DATABASE_URL", DEFAULT_DATABASE_URL),
            secret_key=reader.text("SECRET_KEY", "")
            or _secret_from_file(reader.text("SECRET_KEY_FILE", DEFAULT_SECRET_KEY_FILE)),
            public_url=public_url,
            session_idle=timedelta(seconds=reader.integer("SESSION_IDLE_SECONDS", 3600)),
            reauth_window=timedelta(seconds=reader.positive("REAUTH_SECONDS", 600)),
            session_absolute=timedelta(seconds=reader.integer("SESSION_ABSOLUTE_SECONDS", 43200)),
            argon2_memory_kib=reader.integer("ARGON2_MEMORY_KIB", cls.argon2_memory_kib),
            argon2_time_cost=reader.integer("ARGON2_TIME_COST", cls.argon2_time_cost),
            argon2_parallelism=reader.integer("ARGON2_PARALLELISM", cls.argon2_parallelism),
            max_concurrent_hashes=reader.integer("MAX_CONCURRENT_HASHES", usable_cpus()),
            graphiql=reader.boolean("GRAPHIQL", True),
            trusted_proxies=reader.words("TRUSTED_PROXIES"),
            trusted_origins=tuple(
                _origin("TRUSTED_ORIGINS", value) for value in reader.words("TRUSTED_ORIGINS")
            ),
            cookie_domain=_cookie_domain(reader.text("COOKIE_DOMAIN", ""), public_url),
            max_body_bytes=reader.integer("MAX_BODY_BYTES", cls.max_body_bytes),
            database_statement_seconds=reader.positive(
                "DATABASE_STATEMENT_TIMEOUT_SECONDS", cls.database_statement_seconds
            ),
            database_acquire_seconds=reader.positive(
                "DATABASE_ACQUIRE_TIMEOUT_SECONDS", cls.database_acquire_seconds
            ),
            log_level=reader.text("LOG_LEVEL", "INFO").upper(),
            log_format=reader.choice("LOG_FORMAT", "auto", ("auto", "json", "text")),
            webhook_timeout_seconds=min(
                reader.positive("WEBHOOK_TIMEOUT_SECONDS", cls.webhook_timeout_seconds), 10
            ),
            webhook_delivery=reader.boolean("WEBHOOK_DELIVERY", cls.webhook_delivery),
            issuer=reader.text("ISSUER", "Latchkey"),
            password_min_length=reader.integer("PASSWORD_MIN_LENGTH", 15),
            trusted_device_days=reader.integer("TRUSTED_DEVICE_DAYS", 30),
            token_max_days=reader.integer("TOKEN_MAX_DAYS", 365),
            max_tokens_per_user=reader.positive("MAX_TOKENS_PER_USER", cls.max_tokens_per_user),
            access_token_seconds=reader.integer("ACCESS_TOKEN_SECONDS", 300),
            password_reset_seconds=reader.positive(
                "PASSWORD_RESET_SECONDS", cls.password_reset_seconds
            ),
            account_deletion_days=reader.integer(
                "ACCOUNT_DELETION_DAYS", cls.account_deletion_days
            ),
            self_deletion=reader.boolean("SELF_DELETION", cls.self_deletion),
            audit_retention_days=reader.positive("AUDIT_RETENTION_DAYS", cls.audit_retention_days),
            scopes=reader.text("SCOPES", ""),
            default_scopes=reader.text("DEFAULT_SCOPES", cls.default_scopes),
            token_rotation_grace_seconds=reader.integer("TOKEN_ROTATION_GRACE_SECONDS", 86400),
            smtp=SmtpSettings(
                host=reader.text("SMTP_HOST", ""),
                port=reader.integer("SMTP_PORT", 587),
                security=reader.choice("SMTP_SECURITY", "starttls", ("starttls", "tls", "none")),
                username=reader.text("SMTP_USERNAME", ""),
                password=reader.text("SMTP_PASSWORD", ""),
                sender=reader.text("SMTP_FROM", "Latchkey <latchkey@localhost>"),
            ),
            sms_webhook_url=reader.text("SMS_WEBHOOK_URL", ""),
            sms_webhook_secret=reader.text("SMS_WEBHOOK_SECRET", ""),
            metrics_port=_port("METRICS_PORT", reader.integer("METRICS_PORT", 0)),
        )


def _port(name: str, value: int) -> int:
    if value > 65535:
        raise ConfigError(f"LATCHKEY_{name} must be a port number (1 to 65535), or 0 for none")
    return value


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL, lower-cased, the default port left out."""
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    port = parts.port
    host = (parts.hostname or "").lower()
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def _origin(name: str, value: str) -> str:
    parts = urlsplit(value)
    if (
        parts.scheme not in ("https", "http")
        or not parts.hostname
        or "@" in parts.netloc
        or parts.path.strip("/")
        or parts.query
        or parts.fragment
    ):
        raise ConfigError(
            f"LATCHKEY_{name} lists origins such as https://app.example.com, not {value!r}"
        )
    return origin_of(value)


def _cookie_domain(domain: str, public_url: str) -> str:
    domain = domain.lower().lstrip(".")
    host = (urlsplit(public_url).hostname or "").lower()
    if domain and not (host == domain or host.endswith("." + domain)):
        raise ConfigError(
            f"LATCHKEY_COOKIE_DOMAIN must be the public URL's host or a parent of it ({host}), "
            f"not {domain!r}"
        )
    return domain


def _secret_from_file(path: str) -> str:
    """Read the key file, creating it on first use so `make run` needs no setup.

    Every worker and every restart must see the same key (signed cookies, encrypted
    two-factor secrets), so a key generated per process would not do.
    """
    try:
        with open(path, encoding="ascii") as handle:
            key = handle.read().strip()
    except FileNotFoundError:
        key = ""
    if key:
        return key
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker won the race: use its key
        return _secret_from_file(path)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key


@dataclasses.dataclass(frozen=True)
class _Reader:
    env: Mapping[str, str]

    def text(self, name: str, default: str) -> str:
        return self.env.get(f"LATCHKEY_{name}", default).strip()

    def integer(self, name: str, default: int) -> int:
        raw = self.text(name, str(default))
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"LATCHKEY_{name} must be a whole number, not {raw!r}") from None
        if value < 0:
            raise ConfigError(f"LATCHKEY_{name} must not be negative")
        return value

    def positive(self, name: str, default: int) -> int:
        value = self.integer(name, default)
        if value == 0:
            raise ConfigError(f"LATCHKEY_{name} must be at least 1")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        raw = self.text(name, "true" if default else "false").lower()
        if raw in {"1", "true", "yes", "on"}:
            return True
        if raw in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"LATCHKEY_{name} must be true or false, not {raw!r}")

    def choice(self, name: str, default: str, allowed: tuple[str, ...]) -> str:
        value = self.text(name, default).lower()
        if value not in allowed:
            raise ConfigError(f"LATCHKEY_{name} must be one of {', '.join(allowed)}, not {value!r}")
        return value

    def words(self, name: str) -> tuple[str, ...]:
        return tuple(part.strip() for part in self.text(name, "").split(",") if part.strip())
