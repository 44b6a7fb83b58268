"""Logging for `faultbot run`/`serve`: LOG_LEVEL and FAULTBOT_LOG_FORMAT (text or json).

JSON is one object per line (ts, level, logger, message; charger when the log call
names one with `extra={"charger": ...}`; exc when there is a traceback), for log
shippers. Third-party libraries log their start-up chatter (alembic's migration lines,
the Slack SDK's notes) at INFO or as harmless warnings; they are held at WARNING, or
ERROR for the Slack packages, unless LOG_LEVEL=DEBUG asks for everything.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

# logger -> the lowest level shown unless LOG_LEVEL=DEBUG
QUIET = {
    "alembic": logging.WARNING,
    "aio_pika": logging.WARNING,
    "aiormq": logging.WARNING,
    "apscheduler": logging.WARNING,
    "websockets": logging.WARNING,
    # bolt warns at every start that the token "will be unused" when an authorize
    # function is given; its real failures are logged at ERROR.
    "slack_bolt": logging.ERROR,
    "slack_sdk": logging.WARNING,
}
_TEXT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        charger = getattr(record, "charger", None)
        if charger is not None:
            entry["charger"] = str(charger)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class _Quiet(logging.Filter):
    """Holds third-party loggers at their floor (a handler filter, because some
    libraries, bolt among them, reset their own logger's level from the root's)."""

    def filter(self, record: logging.LogRecord) -> bool:
        name = record.name
        for prefix, floor in QUIET.items():
            if name == prefix or name.startswith(prefix + ".") or name.startswith(prefix + ":"):
                return record.levelno >= floor
        return True


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Install one stderr handler on the root logger (replacing any earlier one)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(_TEXT))
    if level != "DEBUG":
        handler.addFilter(_Quiet())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
