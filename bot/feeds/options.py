"""Feed settings beyond DESIGN contract 3, read from the environment and validated
the same way (a bad value raises SettingsError naming the variable).

| variable | meaning | default |
|---|---|---|
| FAULTBOT_WEBHOOK_PATH_TOKEN | secret path: POST /feed/ocpp/<token>, no HMAC (CitrineOS) | none |
| FAULTBOT_WEBHOOK_MAX_BODY | largest accepted webhook body, bytes | 5242880 |
| FAULTBOT_TAP_HOST / FAULTBOT_TAP_PORT | where the OCPP-J tap listens | 0.0.0.0 / 9000 |
| FAULTBOT_AMQP_MODE | `citrineos` or `faultbot` | citrineos |
| FAULTBOT_AMQP_QUEUE | faultbot's own ingress queue | faultbot.citrineos / faultbot.feed |
| FAULTBOT_AMQP_EXCHANGE | CitrineOS's exchange | citrineos |
| FAULTBOT_AMQP_PARTITION | this worker's partition, INDEX/COUNT | 0/1 |
| FAULTBOT_STEVE_DB_URL | SteVe's MySQL/MariaDB URL: poll connector_status | none |
| FAULTBOT_STEVE_INTERVAL | seconds between SteVe polls | 10 |
| FAULTBOT_FEED_MAX_LAG | seconds of lag before /health answers 503 | 900 |
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.config import SettingsError
from bot.feeds.partition import parse_partition


@dataclass(frozen=True, slots=True)
class FeedOptions:
    # Secrets stay out of repr: options end up in log lines and tracebacks.
    webhook_path_token: str | None = field(default=None, repr=False)
    webhook_max_body: int = 5 * 1024 * 1024
    tap_host: str = "0.0.0.0"
    tap_port: int = 9000
    amqp_mode: str = "citrineos"
    amqp_queue: str | None = None
    amqp_exchange: str = "citrineos"
    amqp_partition: tuple[int, int] = (0, 1)
    steve_db_url: str | None = field(default=None, repr=False)  # may hold a password
    steve_interval: float = 10.0
    max_lag_seconds: float = 900.0


def _opt(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _number(env: Mapping[str, str], name: str, default: float, *, low: float, high: float) -> float:
    raw = _opt(env, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(name, f"expected a number, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(name, f"expected a value between {low:g} and {high:g}")
    return value


def load_feed_options(env: Mapping[str, str] | None = None) -> FeedOptions:
    env = os.environ if env is None else env
    token = _opt(env, "FAULTBOT_WEBHOOK_PATH_TOKEN")
    if token is not None and not re.fullmatch(r"[A-Za-z0-9_\-]{16,200}", token):
        raise SettingsError(
            "FAULTBOT_WEBHOOK_PATH_TOKEN", "expected at least 16 letters, digits, '-' or '_'"
        )
    mode = (_opt(env, "FAULTBOT_AMQP_MODE") or "citrineos").lower()
    if mode not in ("citrineos", "faultbot"):
        raise SettingsError("FAULTBOT_AMQP_MODE", "expected citrineos or faultbot")
    try:
        partition = parse_partition(_opt(env, "FAULTBOT_AMQP_PARTITION") or "0/1")
    except ValueError as exc:
        raise SettingsError("FAULTBOT_AMQP_PARTITION", str(exc)) from None
    steve = _opt(env, "FAULTBOT_STEVE_DB_URL")
    if steve is not None and not steve.startswith(("mysql://", "mysql+", "mariadb")):
        raise SettingsError("FAULTBOT_STEVE_DB_URL", "expected a mysql:// or mysql+pymysql:// URL")
    return FeedOptions(
        webhook_path_token=token,
        webhook_max_body=int(
            _number(env, "FAULTBOT_WEBHOOK_MAX_BODY", 5 * 1024 * 1024, low=1024, high=1 << 30)
        ),
        tap_host=_opt(env, "FAULTBOT_TAP_HOST") or "0.0.0.0",
        tap_port=int(_number(env, "FAULTBOT_TAP_PORT", 9000, low=0, high=65535)),
        amqp_mode=mode,
        amqp_queue=_opt(env, "FAULTBOT_AMQP_QUEUE"),
        amqp_exchange=_opt(env, "FAULTBOT_AMQP_EXCHANGE") or "citrineos",
        amqp_partition=partition,
        steve_db_url=steve,
        steve_interval=_number(env, "FAULTBOT_STEVE_INTERVAL", 10.0, low=0.1, high=86400),
        max_lag_seconds=_number(env, "FAULTBOT_FEED_MAX_LAG", 900.0, low=1, high=7 * 86400),
    )
