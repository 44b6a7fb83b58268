"""Settings from the environment (DESIGN contract 3). A `.env` file is read too.

Every value is validated when settings are loaded; a bad value raises SettingsError
naming the variable, so start-up stops with a message an operator can act on.

May import: vocab
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from types import MappingProxyType
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.vocab import Severity

DEFAULT_DATABASE_URL = "sqlite:///faultbot.db"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")
# Daylight-saving changes skip or repeat local times in this window, so a digest
# scheduled there could be posted twice or not at all.
DST_UNSAFE = (time(1, 0), time(3, 0))

# Who may press what (FAULTBOT_PERMISSIONS overrides any of these; bot/slack/permissions.py
# enforces them). Roles, most to least restrictive: nobody, admins, operators (and
# admins), channel (anyone in the alert's channel, and operators and admins).
FIRST_AID_MODES = ("off", "dry-run", "live")
PERMISSION_ROLES = ("nobody", "admins", "operators", "channel")
DEFAULT_PERMISSIONS: Mapping[str, str] = MappingProxyType(
    {
        "why": "channel",
        "ack": "channel",
        "snooze": "operators",
        "resolve": "operators",
        "reopen": "operators",
        "remote": "operators",
        "teach": "admins",
        "share": "channel",  # post an ephemeral answer into the channel it was asked in
    }
)
# Printed as "***" (tokens) or with the password hidden (URLs) by Settings' repr.
SECRET_FIELDS = ("slack_bot_token", "slack_signing_secret", "slack_app_token", "webhook_secret")
URL_FIELDS = ("database_url", "amqp_url", "upstream_csms", "slack_api_url", "citrineos_url")


class SettingsError(ValueError):
    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable
        self.problem = problem


def _hide_password(url: str | None) -> str | None:
    """The URL with its password (if any) replaced by ***."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
        netloc = f"{parts.username or ''}:***@{host}"
        return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:  # unparseable: show nothing of it rather than a secret
        return "***"


@dataclass(frozen=True, slots=True, repr=False)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str | None = None
    slash_command: str = "/faultbot"
    digest_channel: str | None = None
    digest_time: time = time(7, 30)
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    # The zone of log times written without one (SteVe, Home Assistant); None: UTC.
    log_timezone: ZoneInfo | None = None
    alert_channel: str | None = None
    alert_min_severity: Severity = Severity.OUTAGE
    admins: frozenset[str] = frozenset()
    operators: frozenset[str] = frozenset()
    permissions: Mapping[str, str] = field(default_factory=lambda: DEFAULT_PERMISSIONS)
    webhook_secret: str | None = None
    upstream_csms: str | None = None
    amqp_url: str | None = None
    sites_file: Path | None = None
    site_prefix: str | None = None  # regex: its first group (or match) names the site
    # FAULTBOT_PAGING: who is mentioned, re-notified and where alerts go (bot.slack.paging);
    # read and checked when Slack starts (and by `faultbot slack paging`).
    paging_file: Path | None = None
    http_host: str = "0.0.0.0"
    http_port: int = 3000
    # retention (bot.retention), in days of the log's own clock
    retention_days: int = 30  # raw frames
    evidence_retention_days: int = 400  # frames a diagnosis or incident rests on
    derived_retention_days: int = 400  # diagnoses, resolved incidents, port history
    # FAULTBOT_PRUNE_TIME: when `faultbot run` prunes each day (UTC); None: never
    prune_time: time | None = time(4, 0)
    log_level: str = "INFO"  # LOG_LEVEL: DEBUG also shows third-party libraries' INFO
    log_format: str = "text"  # FAULTBOT_LOG_FORMAT: text, or json (one object per line)
    # Remote actions (bot.actions): CitrineOS's HTTP API as a channel to chargers, and
    # the automatic first-aid policy (off, dry-run: only post what it would do, live).
    citrineos_url: str | None = None
    citrineos_tenant: str = "1"
    first_aid: str = "off"
    # FAULTBOT_REPORT_TIME "mon 08:00": the weekly report's (weekday 0=Monday, local
    # time) in `faultbot run`, posted to FAULTBOT_DIGEST_CHANNEL; None: off.
    report_time: tuple[int, time] | None = None

    @property
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    def __repr__(self) -> str:
        # Settings end up in logs and tracebacks: never print a secret.
        shown = []
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if name in SECRET_FIELDS and value is not None:
                value = "***"
            elif name in URL_FIELDS:
                value = _hide_password(value)
            elif name == "permissions":
                value = dict(value)
            shown.append(f"{name}={value!r}")
        return f"Settings({', '.join(shown)})"

    __str__ = __repr__


def _opt(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _token(env: Mapping[str, str], name: str, prefix: str) -> str | None:
    value = _opt(env, name)
    if value is not None and not value.startswith(prefix):
        raise SettingsError(name, f"expected a token starting with '{prefix}'")
    return value


def _url(env: Mapping[str, str], name: str, schemes: tuple[str, ...]) -> str | None:
    value = _opt(env, name)
    if value is not None and value.split("://", 1)[0] not in schemes:
        raise SettingsError(name, f"expected a URL starting with one of {', '.join(schemes)}")
    return value


_CHANNEL = re.compile(r"^[#]?[A-Za-z0-9_\-]{1,80}$")


def _channel(env: Mapping[str, str], name: str) -> str | None:
    value = _opt(env, name)
    if value is not None and not _CHANNEL.match(value):
        raise SettingsError(name, "expected a channel id like C0123ABCD or a name like #ops")
    return value


def _user_ids(env: Mapping[str, str], name: str) -> frozenset[str]:
    ids = frozenset(a.strip() for a in (_opt(env, name) or "").split(",") if a.strip())
    for user in ids:
        if not re.fullmatch(r"[UW][A-Z0-9]{2,}", user):
            raise SettingsError(name, f"{user!r} is not a Slack user id (U…)")
    return ids


def _permissions(env: Mapping[str, str]) -> Mapping[str, str]:
    """FAULTBOT_PERMISSIONS: `action=role` pairs, comma-separated, over the defaults."""
    raw = _opt(env, "FAULTBOT_PERMISSIONS")
    if raw is None:
        return DEFAULT_PERMISSIONS
    merged = dict(DEFAULT_PERMISSIONS)
    for pair in (p.strip() for p in raw.split(",")):
        if not pair:
            continue
        action, sep, role = (x.strip().lower() for x in pair.partition("="))
        if not sep or action not in DEFAULT_PERMISSIONS:
            raise SettingsError(
                "FAULTBOT_PERMISSIONS",
                f"{pair!r}: expected action=role with an action among "
                f"{', '.join(DEFAULT_PERMISSIONS)}",
            )
        if role not in PERMISSION_ROLES:
            raise SettingsError(
                "FAULTBOT_PERMISSIONS",
                f"{pair!r}: the role must be one of {', '.join(PERMISSION_ROLES)}",
            )
        merged[action] = role
    if merged["teach"] == "channel":
        # Teaching changes what every answer says; it is never open to a whole channel.
        raise SettingsError("FAULTBOT_PERMISSIONS", "teach can be admins, operators or nobody")
    return MappingProxyType(merged)


def check_digest_time(value: time) -> time:
    """Refuse digest times in 01:00-03:00 local (DST changes repeat or skip them)."""
    if DST_UNSAFE[0] <= value < DST_UNSAFE[1]:
        raise SettingsError(
            "FAULTBOT_DIGEST_TIME",
            f"{value:%H:%M} is between 01:00 and 03:00, when daylight-saving changes "
            "skip or repeat the hour; pick a time outside that window (e.g. 07:30)",
        )
    return value


def load_settings(env: Mapping[str, str] | None = None, *, dotenv: bool = True) -> Settings:
    """Build Settings from `env` (default: os.environ plus ./.env)."""
    if env is None:
        dotenv_file = Path.cwd() / ".env"
        if dotenv and dotenv_file.is_file():  # no file, nothing to read: skip the import
            from dotenv import load_dotenv

            load_dotenv(dotenv_file, override=False)
        env = os.environ

    database_url = _opt(env, "DATABASE_URL") or DEFAULT_DATABASE_URL
    if "://" not in database_url:
        raise SettingsError("DATABASE_URL", "expected an SQLAlchemy URL such as sqlite:///faultbot.db")

    raw_time = _opt(env, "FAULTBOT_DIGEST_TIME") or "07:30"
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", raw_time)
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        raise SettingsError("FAULTBOT_DIGEST_TIME", f"expected HH:MM, got {raw_time!r}")
    digest_time = check_digest_time(time(int(m[1]), int(m[2])))

    raw_tz = _opt(env, "FAULTBOT_TIMEZONE") or "UTC"
    try:
        tz = ZoneInfo(raw_tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError("FAULTBOT_TIMEZONE", f"unknown IANA time zone {raw_tz!r}") from None

    raw_log_tz = _opt(env, "FAULTBOT_LOG_TIMEZONE")
    try:
        log_tz = ZoneInfo(raw_log_tz) if raw_log_tz else None
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            "FAULTBOT_LOG_TIMEZONE", f"unknown IANA time zone {raw_log_tz!r}"
        ) from None

    raw_sev = (_opt(env, "FAULTBOT_ALERT_MIN_SEVERITY") or "outage").lower()
    try:
        min_sev = Severity(raw_sev)
    except ValueError:
        allowed = ", ".join(s.value for s in Severity)
        raise SettingsError("FAULTBOT_ALERT_MIN_SEVERITY", f"expected one of {allowed}") from None

    admins = _user_ids(env, "FAULTBOT_ADMINS")
    operators = _user_ids(env, "FAULTBOT_OPERATORS")
    permissions = _permissions(env)

    sites = _opt(env, "FAULTBOT_SITES")
    sites_file = Path(sites) if sites else None
    if sites_file is not None and not sites_file.is_file():
        raise SettingsError("FAULTBOT_SITES", f"no such file: {sites_file}")

    paging = _opt(env, "FAULTBOT_PAGING")
    paging_file = Path(paging) if paging else None

    site_prefix = _opt(env, "FAULTBOT_SITE_PREFIX")
    if site_prefix is not None:
        try:
            re.compile(site_prefix)
        except re.error as exc:
            raise SettingsError("FAULTBOT_SITE_PREFIX", f"bad regular expression: {exc}") from None

    raw_port = _opt(env, "PORT") or _opt(env, "FAULTBOT_HTTP_PORT") or "3000"
    if not raw_port.isdigit() or not 0 < int(raw_port) < 65536:
        raise SettingsError("FAULTBOT_HTTP_PORT", f"expected a TCP port, got {raw_port!r}")

    retention = _days(env, "FAULTBOT_RETENTION_DAYS", 30)
    evidence = _days(env, "FAULTBOT_EVIDENCE_RETENTION_DAYS", 400)
    derived = _days(env, "FAULTBOT_DERIVED_RETENTION_DAYS", 400)
    if evidence < retention:
        raise SettingsError("FAULTBOT_EVIDENCE_RETENTION_DAYS",
                            f"must be at least FAULTBOT_RETENTION_DAYS ({retention})")
    prune_time = _prune_time(env)
    log_level = (_opt(env, "LOG_LEVEL") or "INFO").upper()
    if log_level not in LOG_LEVELS:
        raise SettingsError("LOG_LEVEL", f"expected one of {', '.join(LOG_LEVELS)}")
    log_format = (_opt(env, "FAULTBOT_LOG_FORMAT") or "text").lower()
    if log_format not in LOG_FORMATS:
        raise SettingsError("FAULTBOT_LOG_FORMAT", f"expected one of {', '.join(LOG_FORMATS)}")

    first_aid = (_opt(env, "FAULTBOT_FIRST_AID") or "off").lower()
    if first_aid not in FIRST_AID_MODES:
        raise SettingsError("FAULTBOT_FIRST_AID", f"expected one of {', '.join(FIRST_AID_MODES)}")
    tenant = _opt(env, "FAULTBOT_CITRINEOS_TENANT") or "1"
    if not tenant.isdigit():
        raise SettingsError("FAULTBOT_CITRINEOS_TENANT", "expected a number (CitrineOS tenantId)")

    slash = _opt(env, "FAULTBOT_SLASH_COMMAND") or "/faultbot"
    if not re.fullmatch(r"/[a-z0-9_\-]{1,31}", slash):
        raise SettingsError("FAULTBOT_SLASH_COMMAND", "expected a command like /faultbot")

    return Settings(
        database_url=database_url,
        slack_bot_token=_token(env, "SLACK_BOT_TOKEN", "xoxb-"),
        slack_signing_secret=_opt(env, "SLACK_SIGNING_SECRET"),
        slack_app_token=_token(env, "SLACK_APP_TOKEN", "xapp-"),
        slack_api_url=_url(env, "SLACK_API_URL", ("http", "https")),
        slash_command=slash,
        digest_channel=_channel(env, "FAULTBOT_DIGEST_CHANNEL"),
        digest_time=digest_time,
        timezone=tz,
        log_timezone=log_tz,
        alert_channel=_channel(env, "FAULTBOT_ALERT_CHANNEL"),
        alert_min_severity=min_sev,
        admins=admins,
        operators=operators,
        permissions=permissions,
        webhook_secret=_opt(env, "FAULTBOT_WEBHOOK_SECRET"),
        upstream_csms=_url(env, "FAULTBOT_UPSTREAM_CSMS", ("ws", "wss")),
        amqp_url=_url(env, "FAULTBOT_AMQP_URL", ("amqp", "amqps")),
        sites_file=sites_file,
        site_prefix=site_prefix,
        paging_file=paging_file,
        http_host=_opt(env, "FAULTBOT_HTTP_HOST") or "0.0.0.0",
        http_port=int(raw_port),
        retention_days=retention,
        evidence_retention_days=evidence,
        derived_retention_days=derived,
        prune_time=prune_time,
        log_level=log_level,
        citrineos_url=_url(env, "FAULTBOT_CITRINEOS_URL", ("http", "https")),
        citrineos_tenant=tenant,
        first_aid=first_aid,
        log_format=log_format,
        report_time=_report_time(env),
    )


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _report_time(env: Mapping[str, str]) -> tuple[int, time] | None:
    """"mon 08:00" (weekday and local time) of the weekly report in `faultbot run`, or off."""
    raw = (_opt(env, "FAULTBOT_REPORT_TIME") or "off").strip().lower()
    if raw == "off":
        return None
    m = re.fullmatch(r"([a-z]{3,9})\s+(\d{1,2}):(\d{2})", raw)
    days = [n for n, day in enumerate(WEEKDAYS) if m and day.startswith(m[1])]
    if not m or not days or int(m[2]) > 23 or int(m[3]) > 59:
        raise SettingsError("FAULTBOT_REPORT_TIME",
                            f"expected a weekday and HH:MM like 'mon 08:00', or off; got {raw!r}")
    at = time(int(m[2]), int(m[3]))
    if DST_UNSAFE[0] <= at < DST_UNSAFE[1]:
        raise SettingsError("FAULTBOT_REPORT_TIME",
                            f"{at:%H:%M} is between 01:00 and 03:00, when daylight-saving "
                            "changes skip or repeat the hour; pick another time")
    return days[0], at


def _prune_time(env: Mapping[str, str]) -> time | None:
    """HH:MM (UTC) of the daily prune in `faultbot run`, or "off"."""
    raw = (_opt(env, "FAULTBOT_PRUNE_TIME") or "04:00").lower()
    if raw == "off":
        return None
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", raw)
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        raise SettingsError("FAULTBOT_PRUNE_TIME", f"expected HH:MM or off, got {raw!r}")
    return time(int(m[1]), int(m[2]))


def _days(env: Mapping[str, str], name: str, default: int) -> int:
    """A whole number of days, 1 to 100 years."""
    raw = _opt(env, name)
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 36_500:
        raise SettingsError(name, f"expected a number of days from 1 to 36500, got {raw!r}")
    return int(raw)
