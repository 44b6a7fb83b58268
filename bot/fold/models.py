"""The fold's checkpoint table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.base import Base


class FoldCheckpoint(Base):
    """The fold's context as of one message id, saved in the transaction of a batch (or
    right after it). `name` tells apart folds that share a database (one per broker
    partition); `version` is the code version of the pickled state: another version is
    not loaded, the log is replayed from the start instead."""

    __tablename__ = "fold_checkpoints"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_message_id: Mapped[int] = mapped_column(BigInteger)
    feed_time: Mapped[datetime | None]
    version: Mapped[str] = mapped_column(String(40))
    state: Mapped[bytes] = mapped_column(LargeBinary)
    saved_at: Mapped[datetime]
