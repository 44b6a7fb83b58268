"""Tables the feeds own: where each polling feed has read up to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.base import Base


class FeedOffset(Base):
    """The position of a polling feed (e.g. the SteVe poller) in its source.

    `position_ts`/`position_key` are the (timestamp, key) of the newest source row
    handed to the sink, saved only after the sink stored it, so a restart resumes
    there (rows re-read around it are deduplicated by the store's fingerprints).
    """

    __tablename__ = "feed_offsets"

    feed: Mapped[str] = mapped_column(String(200), primary_key=True)
    position_ts: Mapped[datetime | None]
    position_key: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime]
