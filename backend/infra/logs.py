"""Structured logs: one JSON object per line, for operators and their log pipelines."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from backend.infra.redaction import redact, shorten
from backend.kernel import link_paths

# Attributes every LogRecord has; anything else was passed in `extra=` and is logged as a field.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}

# One request must not be able to write megabytes of log: every string is cut to this.
MAX_VALUE_CHARS = 1000
# A traceback is ours, but its lines may quote the client's input: each line is cut too.
MAX_EXCEPTION_CHARS = 20_000


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": _bounded(record.getMessage()),
        }
        extra = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        entry.update(_bounded(redact(extra)))
        if record.exc_info:
            lines = self.formatException(record.exc_info).splitlines()
            traceback = "\n".join(shorten(line, MAX_VALUE_CHARS) for line in lines)
            entry["exception"] = shorten(traceback, MAX_EXCEPTION_CHARS)
        # json.dumps escapes newlines, so one record is always one line.
        return json.dumps(entry, default=str, ensure_ascii=False)


def _bounded(value: Any) -> Any:
    if isinstance(value, str):
        return shorten(value, MAX_VALUE_CHARS)
    if isinstance(value, dict):
        return {shorten(str(k), MAX_VALUE_CHARS): _bounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_bounded(item) for item in value]
    if isinstance(value, int | float | bool) or value is None:
        return value
    return shorten(str(value), MAX_VALUE_CHARS)


# What follows these in a path is a mailed link's token, usable until the link is confirmed.
_LINK_PATHS = re.compile(
    "|".join(
        re.escape(path)
        for path in (
            link_paths.PASSWORD_RESET,
            link_paths.SECURE_ACCOUNT,
            link_paths.ACCOUNT_DELETION_CANCEL,
        )
    ),
    re.IGNORECASE,
)
HIDDEN = "…"


def loggable_path(path: str) -> str:
    """A request path (query string included) as a log may show it: from a link's path on,
    the rest is HIDDEN (`/password-reset/…`)."""
    # The router matches the path with its %-escapes decoded, so the link is looked for there.
    decoded = unquote(path)
    link = _LINK_PATHS.search(decoded)
    return path if link is None else decoded[: link.end()] + HIDDEN


class LoggablePaths(logging.Filter):
    """For uvicorn's access log: every text in the record's arguments (the path among them)
    through loggable_path."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                loggable_path(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


class TextFormatter(logging.Formatter):
    """For a person at a terminal: time, level, logger, the message as written (an email
    without a mail server reads as one), then the extra fields; redacted like the JSON."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC).strftime("%H:%M:%S")
        line = f"{when} {record.levelname.lower():7} {record.name}: {record.getMessage()}"
        extra = _bounded(redact({k: v for k, v in vars(record).items() if k not in _STANDARD}))
        if extra:
            line += "  " + " ".join(f"{key}={value}" for key, value in extra.items())
        if record.exc_info:
            line += "\n" + shorten(self.formatException(record.exc_info), MAX_EXCEPTION_CHARS)
        return line


def readable(log_format: str, stream: Any) -> bool:
    """Whether the logs are for a person: "text", or "auto" on a terminal."""
    if log_format == "auto":
        return bool(getattr(stream, "isatty", lambda: False)())
    return log_format == "text"


def logging_config(level: str, *, text: bool = False) -> dict[str, Any]:
    """A dictConfig for uvicorn's `log_config`, so every worker logs the same way; `text`
    for a person (TextFormatter), else JSON lines.

    `level` is for Latchkey's own loggers. Libraries log at INFO and above whatever it says,
    as below that they write what they were handed: Tortoise and aiosqlite every statement with
    its parameters (mails queued with their links, password hashes), uvicorn at TRACE every
    request.
    """
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    libraries = _at_least_info(level)
    uvicorn = {"handlers": ["default"], "level": libraries, "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": TextFormatter if text else JsonFormatter}},
        "filters": {"loggable_paths": {"()": LoggablePaths}},
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": libraries},
        "loggers": {
            "latchkey": {"level": level},
            "uvicorn": uvicorn,
            "uvicorn.access": {**uvicorn, "filters": ["loggable_paths"]},
            "uvicorn.error": uvicorn,
        },
    }


def _at_least_info(level: str) -> str:
    number = logging.getLevelName(level)  # a number for a known name
    return level if isinstance(number, int) and number >= logging.INFO else "INFO"
