"""The channels a running faultbot acts through, from its settings: CitrineOS's API
when configured, and the OCPP-J tap once it is listening (preferred: it answers with
the charger's own reply)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.actions.channels import Channels, CitrineChannel, TapChannel
from bot.config import Settings


def stored_versions(engine: Engine) -> Any:
    """charger -> the OCPP version the store last saw it speak."""
    from bot.store.models import Charger

    def version(charger: str) -> str | None:
        with Session(engine) as s:
            row = s.get(Charger, charger)
            return row.ocpp_version if row is not None else None

    return version


def channels_from_settings(settings: Settings, engine: Engine) -> Channels:
    channels = Channels()
    if settings.citrineos_url:
        channels.channels.append(
            CitrineChannel(settings.citrineos_url, settings.citrineos_tenant,
                           versions=stored_versions(engine))
        )
    return channels


def add_tap(channels: Channels, tap: Any) -> None:
    """Called on the feeds' event loop when the tap has started."""
    channels.channels.insert(0, TapChannel(tap, asyncio.get_running_loop()))
