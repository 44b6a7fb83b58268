"""The channels that reach a charger: the OCPP-J tap (faultbot's own CALL on the live
connection, answered synchronously) and CitrineOS's HTTP message API (the CSMS sends
the CALL; its answer to us only says it was sent)."""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

log = logging.getLogger(__name__)

ACCEPTING = frozenset({"Accepted", "Scheduled", "Unlocked"})

# CitrineOS routes: /ocpp/{version}/{module endpointPrefix}/{action, lowerCamel}; the
# query names the station (`identifier`) and the tenant (`tenantId`). From
# citrineos-core: 00_Base/src/interfaces/api/AbstractModuleApi.ts (_toMessagePath) and
# 03_Modules/{Configuration,EVDriver}/src/module/*/MessageApi.ts.
CITRINE_MODULE = {
    "Reset": "configuration",
    "ChangeAvailability": "configuration",
    "TriggerMessage": "configuration",
    "UnlockConnector": "evdriver",
}


@dataclass(frozen=True, slots=True)
class Answer:
    """What came back: status accepted / rejected / failed / sent, and the detail."""

    status: str
    detail: str
    message_id: str | None = None


class Channel(Protocol):
    name: str

    def unavailable(self, charger: str) -> str | None:
        """A reason code when this channel cannot reach the charger now."""

    def version(self, charger: str) -> str | None:
        """The charger's OCPP version as this channel knows it (None: unknown)."""

    def send(self, charger: str, action: str, payload: dict[str, Any]) -> Answer: ...


def answer_of_frame(frame: list[Any]) -> Answer:
    """A charger's CALLRESULT / CALLERROR as an Answer."""
    message_id = str(frame[1]) if len(frame) > 1 else None
    if frame and frame[0] == 3 and len(frame) > 2 and isinstance(frame[2], dict):
        status = str(frame[2].get("status", ""))
        return Answer("accepted" if status in ACCEPTING else "rejected", status, message_id)
    code = str(frame[2]) if len(frame) > 2 else "CALLERROR"
    return Answer("failed", code, message_id)


class TapChannel:
    """The OCPP-J tap, running on its own event loop (the feeds' thread)."""

    name = "tap"

    def __init__(self, tap: Any, loop: asyncio.AbstractEventLoop, timeout: float = 30.0):
        self.tap, self.loop, self.timeout = tap, loop, timeout

    def unavailable(self, charger: str) -> str | None:
        return None if self.tap.is_connected(charger) else "not_connected"

    def version(self, charger: str) -> str | None:
        return self.tap.ocpp_version(charger)

    def send(self, charger: str, action: str, payload: dict[str, Any]) -> Answer:
        from bot.feeds.tap import NotConnected

        call = self.tap.call(charger, action, payload, timeout=self.timeout)
        future = asyncio.run_coroutine_threadsafe(call, self.loop)
        try:
            return answer_of_frame(future.result(self.timeout + 5))
        except NotConnected:
            return Answer("failed", "not_connected")
        except TimeoutError:
            future.cancel()
            return Answer("failed", "no_answer")


class CitrineChannel:
    """CitrineOS's message API: POST /ocpp/{version}/{module}/{action}?identifier=&tenantId=."""

    name = "citrineos"

    def __init__(self, base_url: str, tenant: str, versions: Any = None, timeout: float = 15.0):
        self.base_url = base_url.rstrip("/")
        self.tenant = tenant
        self.versions = versions or (lambda charger: None)  # charger -> OCPP version
        self.timeout = timeout

    def unavailable(self, charger: str) -> str | None:
        return None

    def version(self, charger: str) -> str | None:
        return self.versions(charger)

    def url(self, charger: str, action: str) -> str:
        version = "2.0.1" if self.version(charger) in ("2.0.1", "2.1") else "1.6"
        path = f"/ocpp/{version}/{CITRINE_MODULE[action]}/{action[0].lower()}{action[1:]}"
        query = urlencode({"identifier": charger, "tenantId": self.tenant})
        return f"{self.base_url}{path}?{query}"

    def send(self, charger: str, action: str, payload: dict[str, Any]) -> Answer:
        req = urllib.request.Request(
            self.url(charger, action), data=json.dumps(payload).encode(), method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                body = json.loads(resp.read().decode() or "null")
        except urllib.error.HTTPError as exc:
            return Answer("failed", f"HTTP {exc.code}")
        except (OSError, ValueError) as exc:
            log.warning("CitrineOS %s for %s failed: %s", action, charger, exc)
            return Answer("failed", "unreachable")
        # One IMessageConfirmation per identifier: {success, payload?}.
        first = body[0] if isinstance(body, list) and body else body
        ok = isinstance(first, dict) and first.get("success") is True
        return Answer("sent" if ok else "rejected", "sent" if ok else "refused by CitrineOS")


class Channels:
    """The channels in order of preference; the first that can reach a charger acts."""

    def __init__(self, *channels: Channel) -> None:
        self.channels = [c for c in channels if c is not None]

    def pick(self, charger: str) -> tuple[Channel | None, str | None]:
        """(channel, None) or (None, why no channel can act)."""
        if not self.channels:
            return None, "no_channel"
        reason = None
        for channel in self.channels:
            reason = channel.unavailable(charger)
            if reason is None:
                return channel, None
        return None, reason
