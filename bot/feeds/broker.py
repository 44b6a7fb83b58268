"""RabbitMQ feed (aio-pika): CitrineOS's `citrineos` exchange, or faultbot's own format.

Topology (declared idempotently on every (re)connect):

* citrineos mode: CitrineOS publishes transient messages to a *non-durable* headers
  exchange `citrineos` (deleted by a broker restart, so it is re-declared with the
  same arguments on every reconnect). faultbot binds its own durable queue
  (default `faultbot.citrineos`) with `{x-match: all}` and no other header, which
  matches every message. Bodies come in two key styles (`origin`/`_origin`, ...).
* faultbot mode: producers publish one contract-1 object per message to the durable
  queue (default `faultbot.feed`).
* partitioned (partition=(i, n), n > 1): the ingress queue above is consumed by a
  *router* that republishes each message (body and headers unchanged, wrapped with
  the rest of its batch for the same partition in one envelope, bot.feeds.envelope)
  to the direct exchange `faultbot.part` with routing key `partition_of(charger, n)`
  (persistent, with publisher confirms) before acking it; worker i consumes
  `faultbot.part.<i>` and unwraps.
  Every worker runs the router, but the ingress and partition queues carry
  `x-single-active-consumer`, so exactly one router and one consumer per partition
  are active, and a standby takes over (with the unacked messages) when one dies.
  One charger's frames therefore reach one worker, in order.

A message is acked only after the sink stored its frame. A message that can never
be stored (not JSON, no charger, a frame the parser rejects, a value the database
refuses: the store isolates it, see bot.store.loader) is published to `<queue>.dead`
byte for byte with the reason in the `x-faultbot-reason` header, then acked, and the
partition moves on. Only a sink failure (the store is down) nacks the batch with
requeue after a backoff: nothing is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any, Literal, Protocol

import aio_pika
import aiormq
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractRobustChannel,
    AbstractRobustConnection,
    Arguments,
)

from bot.feeds.convert import citrineos_broker
from bot.feeds.envelope import CONTENT_TYPE as ENVELOPE_TYPE
from bot.feeds.envelope import Item, unwrap, wrap
from bot.feeds.health import FeedHealth
from bot.feeds.partition import (
    PARTITION_EXCHANGE,
    PARTITION_QUEUE_ARGS,
    partition_of,
    partition_queue,
)
from bot.feeds.sink import FrameSink, SinkRunner
from bot.ocpp.events import LineError, Record

log = logging.getLogger(__name__)

Mode = Literal["citrineos", "faultbot"]
CITRINEOS_EXCHANGE = "citrineos"
DEFAULT_QUEUES: dict[str, str] = {"citrineos": "faultbot.citrineos", "faultbot": "faultbot.feed"}
INGRESS_ARGS: Arguments = {"x-single-active-consumer": True}
REASON_HEADER = "x-faultbot-reason"


class _Unreadable(Exception):
    pass


class _Carrier(Protocol):
    """A broker message or an item unwrapped from a partition envelope."""

    @property
    def body(self) -> bytes: ...

    @property
    def headers(self) -> Any: ...


def _header(message: _Carrier, name: str) -> Any:
    value = (message.headers or {}).get(name)
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _decode(message: _Carrier) -> Any:
    try:
        return json.loads(message.body)
    except (ValueError, RecursionError):
        raise _Unreadable("body is not JSON") from None


def message_object(mode: Mode, message: _Carrier) -> dict[str, Any]:
    """One broker message -> a contract-1 object (raises _Unreadable with the reason)."""
    body = _decode(message)
    if mode == "citrineos":
        try:
            return citrineos_broker(body, message.headers or {})
        except ValueError as exc:
            raise _Unreadable(str(exc)) from None
    if not isinstance(body, dict):
        raise _Unreadable("expected one contract-1 JSON object per message")
    return body


def partition_key(mode: Mode, message: _Carrier) -> str:
    """The charger id a message belongs to (headers first: no JSON parse needed)."""
    if mode == "citrineos":
        station = _header(message, "stationId")
        if isinstance(station, str) and station:
            return station
    obj = message_object(mode, message)
    charger = obj.get("charger")
    if not isinstance(charger, str) or not charger:
        raise _Unreadable("no charger id")
    return charger


class Delivery:
    """One delivery, read straight off aiormq. aio-pika's IncomingMessage (a dozen
    properties copied through a checking __setattr__) and the extra task its consumer
    starts per message were a sixth of the worker's CPU in a profile; this keeps only
    what the feed reads, and acks go to the channel the message came in on."""

    __slots__ = ("body", "channel", "content_type", "headers", "settled", "tag")

    def __init__(self, raw: aiormq.abc.DeliveredMessage) -> None:
        props = raw.header.properties
        self.body: bytes = raw.body
        self.headers: dict[str, Any] = props.headers or {}
        self.content_type: str | None = props.content_type
        self.tag: int = getattr(raw.delivery, "delivery_tag", 0) or 0
        self.channel: aiormq.abc.AbstractChannel = raw.channel
        self.settled = False


async def _settle(deliveries: list[Delivery], *, ack: bool) -> None:
    """Ack (or nack with requeue) every delivery given with ONE multiple-flag frame
    per channel. Sound because a channel's batches run one at a time: every earlier
    delivery on that channel is already settled. A channel that closed meanwhile
    (broker restart) has already given its messages back, so they come again."""
    newest: dict[int, Delivery] = {}
    for d in deliveries:
        if not d.settled and d.tag:
            d.settled = True
            key = id(d.channel)
            if key not in newest or newest[key].tag < d.tag:
                newest[key] = d
    for d in newest.values():
        try:
            if ack:
                await d.channel.basic_ack(d.tag, multiple=True)
            else:
                await d.channel.basic_nack(d.tag, multiple=True, requeue=True)
        except Exception as exc:  # closed channel: its messages are back in the queue
            log.warning("settling deliveries failed (they will be redelivered): %s", exc)


class _Inbox:
    """Deliveries waiting for the next batch: a list and one waiter, not an
    asyncio.Queue (whose put/get cost a future and several calls per message)."""

    def __init__(self) -> None:
        self.items: list[Delivery] = []
        self._want = 0
        self._waiter: asyncio.Future[None] | None = None

    async def deliver(self, raw: aiormq.abc.DeliveredMessage) -> None:
        self.items.append(Delivery(raw))
        waiter = self._waiter
        if waiter is not None and len(self.items) >= self._want and not waiter.done():
            waiter.set_result(None)

    async def wait(self, count: int, timeout: float) -> None:
        """Until `count` items are in, or `timeout` s. Cancelling it loses nothing:
        the items stay in the inbox."""
        if len(self.items) >= count or timeout <= 0:
            return
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._want, self._waiter = count, waiter
        timer = loop.call_later(timeout, _wake, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None

    def take(self, count: int) -> list[Delivery]:
        batch = self.items[:count]
        del self.items[:count]
        return batch

    def __len__(self) -> int:
        return len(self.items)


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _items(message: Delivery) -> list[_Carrier]:
    """What one delivery carries: a partition envelope's items, or the message itself."""
    if message.content_type == ENVELOPE_TYPE:
        try:
            items: list[_Carrier] = list(unwrap(message.body))
        except ValueError as exc:
            raise _Unreadable(str(exc)) from None
        return items
    return [message]


class BrokerFeed:
    """Consume a RabbitMQ feed into a sink. `await start()`, later `await stop()`."""

    def __init__(
        self,
        url: str,
        sink: FrameSink | SinkRunner,
        *,
        mode: Mode = "citrineos",
        queue: str | None = None,
        prefetch: int = 1000,
        partition: tuple[int, int] = (0, 1),
        exchange: str = CITRINEOS_EXCHANGE,
        batch_size: int = 500,
        linger: float = 0.05,
        health: FeedHealth | None = None,
        connection_name: str = "faultbot-feed",
        partition_exchange: str = PARTITION_EXCHANGE,
        reconnect_interval: float = 2.0,
    ) -> None:
        if mode not in DEFAULT_QUEUES:
            raise ValueError(f"mode must be 'citrineos' or 'faultbot', got {mode!r}")
        index, count = partition
        if count < 1 or not 0 <= index < count:
            raise ValueError(f"bad partition {partition!r}")
        self.url, self.mode = url, mode
        self.runner = sink if isinstance(sink, SinkRunner) else SinkRunner(sink)
        self.queue_name = queue or DEFAULT_QUEUES[mode]
        self.dead_queue = self.queue_name + ".dead"
        self.prefetch, self.partition = prefetch, partition
        self.exchange_name = exchange
        self.batch_size, self.linger = batch_size, linger
        self.health = health or FeedHealth(f"broker:{self.queue_name}")
        self.connection_name = connection_name
        self.partition_exchange = partition_exchange
        self.reconnect_interval = reconnect_interval
        self._conn: AbstractRobustConnection | None = None
        self._channel: AbstractRobustChannel | None = None
        self._part_exchange: AbstractExchange | None = None
        self._inbox = _Inbox()
        self._route_inbox = _Inbox()
        self._router_channel: AbstractRobustChannel | None = None
        # (channel, queue, inbox, consumer tag): consumed on the underlying aiormq
        # channel, so this feed re-subscribes itself whenever a channel reopens
        self._consumers: list[tuple[AbstractRobustChannel, str, _Inbox, str]] = []
        self._watched: set[int] = set()  # channels whose reopen re-subscribes
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    @property
    def partitioned(self) -> bool:
        return self.partition[1] > 1

    @property
    def consume_queue(self) -> str:
        if self.partitioned:
            return partition_queue(self.partition[0], self.partition_exchange)
        return self.queue_name

    # --- topology -----------------------------------------------------------------------

    async def _declare(self, channel: AbstractChannel) -> None:
        """Declare (again) everything this worker needs; safe on every reconnect."""
        ingress = await channel.declare_queue(
            self.queue_name, durable=True, arguments=INGRESS_ARGS
        )
        if self.mode == "citrineos":
            # Same arguments as CitrineOS (headers, non-durable) or it answers 406.
            exchange = await channel.declare_exchange(
                self.exchange_name, aio_pika.ExchangeType.HEADERS, durable=False
            )
            await ingress.bind(exchange, routing_key="", arguments={"x-match": "all"})
        await channel.declare_queue(self.dead_queue, durable=True)
        if self.partitioned:
            self._part_exchange = await channel.declare_exchange(
                self.partition_exchange, aio_pika.ExchangeType.DIRECT, durable=True
            )
            for i in range(self.partition[1]):
                q = await channel.declare_queue(
                    partition_queue(i, self.partition_exchange),
                    durable=True,
                    arguments=PARTITION_QUEUE_ARGS,
                )
                await q.bind(self._part_exchange, routing_key=str(i))

    async def _on_reconnect(self, _connection: Any) -> None:
        self.health.live = True
        if self._channel is not None:
            try:
                await self._declare(self._channel)
            except Exception as exc:  # robust channel restores it on the next try
                log.warning("re-declaring the broker topology failed: %s", exc)

    def _on_close(self, *_args: Any) -> None:
        self.health.live = False

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self, timeout: float = 15.0) -> None:
        self._conn = await asyncio.wait_for(
            aio_pika.connect_robust(
                self.url,
                client_properties={"connection_name": self.connection_name},
                reconnect_interval=self.reconnect_interval,
            ),
            timeout,
        )
        self._conn.reconnect_callbacks.add(self._on_reconnect)
        self._conn.close_callbacks.add(self._on_close)
        self._channel = await self._robust_channel()
        await self._declare(self._channel)
        if self.partitioned:
            # The router gets its own channel so its deliveries never mix with the
            # worker's (the worker acks a whole batch with one multiple-ack).
            self._router_channel = await self._robust_channel()
            self._part_exchange = await self._router_channel.get_exchange(
                self.partition_exchange
            )
            await self._subscribe(self._router_channel, self.queue_name, self._route_inbox)
            self._tasks.append(asyncio.create_task(self._route()))
        await self._subscribe(self._channel, self.consume_queue, self._inbox)
        self._tasks.append(asyncio.create_task(self._work()))
        self.health.live = True

    async def _robust_channel(self) -> AbstractRobustChannel:
        assert self._conn is not None
        channel = await self._conn.channel(publisher_confirms=True)
        assert isinstance(channel, aio_pika.RobustChannel)
        await channel.set_qos(prefetch_count=self.prefetch)
        return channel

    async def _subscribe(self, channel: AbstractRobustChannel, queue: str, inbox: _Inbox) -> None:
        """basic.consume on the aiormq channel under `channel` (see Delivery), and
        again on every reopen of it (aio-pika only restores its own consumers)."""
        raw = await channel.get_underlay_channel()
        ok = await raw.basic_consume(queue, inbox.deliver, no_ack=False)
        self._consumers.append((channel, queue, inbox, ok.consumer_tag or ""))
        if id(channel) not in self._watched:
            self._watched.add(id(channel))
            channel.reopen_callbacks.add(self._on_reopen)

    async def _on_reopen(self, channel: Any) -> None:
        if self._stopping:
            return
        mine = [c for c in self._consumers if c[0] is channel]
        for entry in mine:
            self._consumers.remove(entry)
        for chan, queue, inbox, _tag in mine:
            try:
                await self._subscribe(chan, queue, inbox)
            except Exception as exc:  # the next reopen tries again
                log.warning("consuming %s again after a reconnect failed: %s", queue, exc)

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop taking messages; finish the batch in hand; the rest goes back unacked."""
        self._stopping = True
        for channel, _queue, _inbox, tag in self._consumers:
            with contextlib.suppress(Exception):
                raw = await channel.get_underlay_channel()
                await asyncio.wait_for(raw.basic_cancel(tag), timeout)
        self._consumers.clear()
        for task in self._tasks:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(task, timeout)
        self.health.live = False
        if self._conn is not None:
            # Closing the channel returns every unacked message to its queue.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._conn.close(), timeout)

    async def run(self, stop_event: asyncio.Event) -> None:
        await self.start()
        try:
            await stop_event.wait()
        finally:
            await self.stop()

    # --- router (partitioned mode) ------------------------------------------------------------

    async def _route(self) -> None:
        """Republish ingress messages to their partitions, one batch at a time: the
        batch's messages for one partition travel as ONE persistent envelope
        (bot.feeds.envelope), so a batch costs one confirmed publish per partition
        instead of one per frame. Acks follow the confirms; a partition whose
        envelope was not confirmed gets its messages nacked, and they come back."""
        while not (self._stopping and not self._route_inbox):
            batch = await self._next_batch(self._route_inbox)
            if batch:
                await self._route_batch(batch)

    async def _route_batch(self, batch: list[Delivery]) -> None:
        assert self._part_exchange is not None and self._router_channel is not None
        groups: dict[int, list[Delivery]] = {}
        dead: list[tuple[Delivery, str]] = []
        for message in batch:
            try:
                charger = partition_key(self.mode, message)
            except _Unreadable as exc:
                dead.append((message, str(exc)))
                continue
            groups.setdefault(partition_of(charger, self.partition[1]), []).append(message)

        async def publish(part: int, messages: list[Delivery]) -> bool:
            assert self._part_exchange is not None
            envelope = aio_pika.Message(
                wrap([Item(m.body, m.headers) for m in messages]),
                content_type=ENVELOPE_TYPE,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            )
            try:
                await self._part_exchange.publish(envelope, routing_key=str(part))
            except Exception as exc:  # not confirmed: leave them for redelivery
                log.warning("routing to partition %s failed: %s", part, exc)
                return False
            return True

        parts = list(groups)
        confirmed = await asyncio.gather(*(publish(p, groups[p]) for p in parts))
        for message, reason in dead:
            await self._dead_letter(message, reason, channel=self._router_channel)
        failed = [m for p, ok in zip(parts, confirmed, strict=True) if not ok for m in groups[p]]
        if failed:
            # Rare: settle one by one, the unconfirmed ones back to the queue.
            unconfirmed = {id(m) for m in failed}
            for message in batch:
                if message.settled or not message.tag:
                    continue
                message.settled = True
                with contextlib.suppress(Exception):
                    if id(message) in unconfirmed:
                        await message.channel.basic_nack(message.tag, requeue=True)
                    else:
                        await message.channel.basic_ack(message.tag)
            return
        # Batches run one at a time on this channel: one multiple-ack settles them all.
        await _settle(batch, ack=True)

    # --- consumer -------------------------------------------------------------------------------

    async def _next_batch(self, inbox: _Inbox | None = None, wait: float = 0.5) -> list[Delivery]:
        """Up to batch_size deliveries: waits at most `wait` s for the first (so the loop
        can notice a stop), then lingers up to `linger` s for more. Only the waits are
        ever cancelled, never the taking: deliveries stay in the inbox until taken."""
        inbox = self._inbox if inbox is None else inbox
        await inbox.wait(1, wait)
        if not inbox:
            return []
        await inbox.wait(self.batch_size, self.linger)
        return inbox.take(self.batch_size)

    async def _work(self) -> None:
        delay = 0.2
        while not (self._stopping and not self._inbox):
            batch = await self._next_batch()
            if not batch:
                continue
            if await self._process(batch):
                delay = 0.2
            else:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                await _settle(batch, ack=False)  # back to the queue, in order

    async def _process(self, batch: list[Delivery]) -> bool:
        """Store one batch; True when every message was settled (stored or
        dead-lettered, then acked). On a sink failure nothing is acked or dead-lettered:
        the whole batch comes back and is judged again."""
        from bot.ocpp.readers import read_json_objects

        objects: list[dict[str, Any]] = []
        carriers: list[_Carrier] = []
        dead: list[tuple[_Carrier, str]] = []
        for message in batch:
            try:
                items = _items(message)
            except _Unreadable as exc:
                dead.append((message, str(exc)))
                continue
            for item in items:
                try:
                    objects.append(message_object(self.mode, item))
                    carriers.append(item)
                except _Unreadable as exc:
                    dead.append((item, str(exc)))
        self.health.received += len(objects) + len(dead)
        records: list[Record] = []
        record_carriers: list[_Carrier] = []
        source = f"amqp:{self.consume_queue}"
        for entry in read_json_objects(objects, source=source):
            carrier = carriers[(entry.line or 1) - 1]
            if isinstance(entry, LineError):
                dead.append((carrier, entry.reason))
                continue
            if self.mode == "citrineos" and entry.action_hint is None:
                # A result's action is only in the headers; the parser may not have the CALL.
                action = _header(carrier, "action")
                entry.action_hint = action if isinstance(action, str) else None
            entry.line = len(records) + 1  # position in this batch, to map rejections back
            records.append(entry)
            record_carriers.append(carrier)
        if records:
            try:
                result = await self.runner(records)
            except Exception as exc:  # store down: nack after backoff, nothing lost
                self.health.sink_failures += 1
                self.health.last_error = f"sink: {type(exc).__name__}: {exc}"[:300]
                log.warning("broker sink failed: %s", exc)
                return False
            self.health.note_stored(records, result.stored, result.duplicates)
            # refusals here are dead-lettered (counted there), not `rejected`
            self.health.no_fact.update(result.dropped)
            rejected = {e.line: e.reason for e in result.rejected}
            dead += [(c, rejected[n]) for n, c in enumerate(record_carriers, 1) if n in rejected]
        for carrier, reason in dead:
            await self._dead_letter(carrier, reason)
        # Every earlier delivery on this channel is settled (batches run one at a time),
        # so one multiple-ack on the newest settles the whole batch.
        await _settle(batch, ack=True)
        return True

    async def _dead_letter(
        self, message: _Carrier, reason: str, *, channel: AbstractChannel | None = None
    ) -> None:
        channel = channel or self._channel
        assert channel is not None
        headers = dict(message.headers or {})
        headers[REASON_HEADER] = reason[:500]
        headers["x-faultbot-queue"] = self.consume_queue
        await channel.default_exchange.publish(
            aio_pika.Message(
                message.body,
                headers=headers,
                content_type=getattr(message, "content_type", None) or "application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=self.dead_queue,
        )
        self.health.dead_lettered += 1


async def publish_records(
    channel: AbstractChannel,
    objects: list[dict[str, Any]],
    *,
    queue: str = DEFAULT_QUEUES["faultbot"],
) -> None:
    """Publish contract-1 objects, one per message, to faultbot's ingress queue."""
    exchange = channel.default_exchange
    await asyncio.gather(
        *(
            exchange.publish(
                aio_pika.Message(
                    json.dumps(obj, separators=(",", ":")).encode(),
                    content_type="application/json",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=queue,
            )
            for obj in objects
        )
    )
