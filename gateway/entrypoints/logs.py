"""Structured logs: one JSON object a line (the standard library's logging with a JSON formatter),
each carrying the request id, actor and route of the request it belongs to, as every event does.

`YINGJI_LOG_FORMAT=text` gives the plain lines back (a developer's terminal). The request id is
the one answered in `X-Request-ID` and recorded in the events a command saves, so a log line, an
HTTP answer and an event can be matched.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from contextvars import ContextVar
from typing import Any

import orjson

request_id_var: ContextVar[str] = ContextVar("request_id", default="")
actor_var: ContextVar[str] = ContextVar("actor", default="")
route_var: ContextVar[str] = ContextVar("route", default="")

_CONTEXT = ("request_id", "actor", "route")  # written only when not empty
# Attributes every LogRecord has; anything else passed with `extra=` is written as a field.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


def _timestamp(created: float) -> str:
    """ISO 8601 in UTC to the millisecond, as `datetime.isoformat(timespec="milliseconds")` writes it."""
    whole = int(created)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{int((created - whole) * 1000):03d}+00:00"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": _timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, var in (("request_id", request_id_var), ("actor", actor_var), ("route", route_var)):
            value = getattr(record, key, None) or var.get()
            if value:
                out[key] = value
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in out and key not in _CONTEXT and not key.startswith("_"):
                out[key] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        try:
            return orjson.dumps(out).decode()  # UTF-8 as is (Chinese stays readable), and cheap per line
        except TypeError:  # an integer beyond 64 bits and the like
            return json.dumps(out, ensure_ascii=False, separators=(",", ":"))


def configure_logging(fmt: str | None = None, level: int = logging.INFO) -> None:
    """The process's logging: JSON lines on stderr (default) or plain text; uvicorn's loggers too."""
    fmt = (fmt or os.environ.get("YINGJI_LOG_FORMAT") or "json").lower()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = True
