"""Logging for every process: plain text or one JSON object per line (LOG_FORMAT=json).

Each record carries the request id of the HTTP request (`web.request_id` sets it) and the id of
the delivery being sent, when there is one. The access log keeps method, path and status only:
query strings of public routes carry questions and WeChat signatures, and the client address
is personal data.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO

request_id: ContextVar[str] = ContextVar("request_id", default="")
delivery_id: ContextVar[int | None] = ContextVar("delivery_id", default=None)

@contextmanager
def delivery_context(delivery: int) -> Iterator[None]:
    """Log lines written inside carry this delivery id."""
    token = delivery_id.set(delivery)
    try:
        yield
    finally:
        delivery_id.reset(token)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s%(context)s"


class ContextFilter(logging.Filter):
    """Adds `request_id`, `delivery_id` and a ready-made `context` suffix to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.delivery_id = delivery_id.get()
        parts = [f"request={record.request_id}" if record.request_id else "",
                 f"delivery={record.delivery_id}" if record.delivery_id is not None else ""]  # fmt: skip
        joined = " ".join(p for p in parts if p)
        record.context = f" [{joined}]" if joined else ""
        return True


class AccessLogWithoutQuery(logging.Filter):
    """uvicorn's access record is (client, method, path with query, http version, status):
    keep the path only and drop the client address."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            _client, method, path, version, status = args
            record.args = ("-", method, str(path).split("?", 1)[0], version, status)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if getattr(record, "request_id", ""):
            entry["request_id"] = record.request_id  # type: ignore[attr-defined]
        if getattr(record, "delivery_id", None) is not None:
            entry["delivery_id"] = record.delivery_id  # type: ignore[attr-defined]
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(log_format: str = "text", *, stream: IO[str] | None = None, level: int = logging.INFO) -> None:
    """One handler on the root logger (uvicorn's loggers propagate to it: start uvicorn with
    `log_config=None`); JSON lines when `log_format` is "json"."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if log_format.lower() == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, AccessLogWithoutQuery) for f in access.filters):
        access.addFilter(AccessLogWithoutQuery())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        # An earlier uvicorn.Config in this process (log_level=, access_log=False) leaves its
        # level, handlers or propagation behind; this configuration owns them from here on.
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
        uvicorn_logger.disabled = False
        uvicorn_logger.setLevel(logging.NOTSET)
    # APScheduler logs every job addition and run at INFO; our jobs log what they did themselves.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # httpx logs every outgoing URL at INFO: bot tokens and access_token query strings.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
