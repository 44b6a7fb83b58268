"""`faultbot demo-slack`: the whole Slack side against the local Web API stand-in.

Starts the stub, loads the bundled sample feed through the Pipeline with the alert
listener, posts the digest, answers a signed `/faultbot why …` and an @mention through
the real bolt HTTP route, drives one alert thread (open, escalate, ack, resolve) with
signed button clicks, and returns what the stub received.
"""

from __future__ import annotations

import json
import secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.incidents.models import Incident
from bot.slack.app import build_app, services_of, static_authorize
from bot.slack.dbutil import utcnow
from bot.slack.digest_job import DigestScheduler
from bot.slack.http import serve_in_thread
from bot.slack.inbound import (
    APP_ID,
    BOT_USER,
    FORM,
    TEAM,
    action_body,
    command_body,
    event_body,
    ocpp_line,
    signed_post,
)
from bot.slack.models import SlackAlertMessage, SlackOutbox
from bot.slack.outbox import OutboxWorker
from bot.slack.stub import SlackStub
from bot.templating import terminal_env

DEMO_CHARGER = "CP-DEMO-1"


def _frame(ts: str, action: str, payload: dict[str, Any]) -> str:
    return ocpp_line(ts, DEMO_CHARGER, action, payload)


def run_demo(settings: Settings, say: Callable[[str], None], workdir: Path | None = None) -> int:
    """Run the demo; returns the number of Web API calls the stub recorded."""
    from bot.ocpp.readers import read_file, read_lines
    from bot.pipeline import Pipeline
    from bot.sample.generate import write_sample
    from bot.store.db import make_engine, migrate
    from bot.store.sites import SiteMap

    tmp = Path(workdir or tempfile.mkdtemp(prefix="faultbot-slack-demo-"))
    sample = write_sample(tmp)
    secret = secrets.token_hex(16)
    with SlackStub() as stub:
        stub.add_user("UADMIN", "ops-lead")
        stub.add_user("U0ONCALL", "on-call")
        stub.set_members("CALERTS", "U0ONCALL", "UADMIN")
        settings = replace(
            settings,
            database_url=settings.database_url
            if settings.database_url.startswith("postgresql")
            else f"sqlite:///{tmp / 'demo.db'}",
            slack_bot_token="xoxb-demo",
            slack_signing_secret=secret,
            slack_api_url=stub.base_url,
            digest_channel="CDIGEST",
            alert_channel="CALERTS",
            admins=frozenset({"UADMIN"}),
            operators=frozenset({"U0ONCALL"}),  # on call: may resolve (see permissions)
            sites_file=sample.sites,
        )
        engine = make_engine(settings.database_url)
        migrate(engine)
        client = WebClient(token="xoxb-demo", base_url=stub.base_url, retry_handlers=[])
        worker = OutboxWorker(engine, client, pace=0.05)
        sites = SiteMap.from_settings(settings)
        pipelines: list[Any] = []

        def log_clock() -> datetime:
            # The sample's clock, not the wall's: the sample is dated 2026-11, so a wall-clock
            # resolve would say "Resolved after 11 d".
            return (pipelines[0].feed_clock.now if pipelines else None) or utcnow()

        app = build_app(
            settings,
            engine,
            client=client,
            authorize=static_authorize("xoxb-demo"),
            worker=worker,
            clock=log_clock,
        )
        services = services_of(app)
        services._sites = sites
        pipeline = Pipeline(engine, sites=sites, listeners=[services.publisher.on_changes])
        pipelines.append(pipeline)
        # The words, as the template's macros (attributes Jinja makes at run time).
        steps: Any = terminal_env("slack").get_template("demo_steps.j2").module

        say(steps.loading(sample.feed.name))
        result = pipeline.process(read_file(sample.feed))
        services.deliver()
        roots = len(stub.ok_calls("chat.postMessage"))
        say(steps.loaded(result.new, len(result.diagnoses), result.count("opened"), roots))
        last = result.last_ts
        assert last is not None

        say(steps.posting_digest())
        local_date = (last + timedelta(days=1)).astimezone(settings.timezone).date()
        digest = DigestScheduler(engine, settings, client, sites=sites, worker=worker)
        run = digest.post("CDIGEST", local_date, log_clock())
        worker.run_once()
        say(steps.digest_posted(run.messages, digest.report_day(local_date)))

        with serve_in_thread(app) as url:
            say(steps.signed(url))
            with Session(engine) as s:
                charger = (
                    s.scalars(
                        select(Incident.charger)
                        .where(Incident.resolved_at.is_(None), Incident.charger.is_not(None))
                        .order_by(Incident.opened_at)
                    ).first()
                    or "CP-001"
                )
            cmd = command_body(
                f"why {charger}",
                stub.response_url_base + "demo",
                user="U0ONCALL",
                command=settings.slash_command,
            )
            status, _ = signed_post(url, cmd, FORM, secret=secret, timeout=30)
            say(steps.command_result(settings.slash_command, charger, status))
            stub.wait_for("response_url", 1, timeout=30)
            mention = {
                "type": "app_mention",
                "user": "U0ONCALL",
                "channel": "COPS",
                "ts": "1790000000.000001",
                "text": f"<@{BOT_USER}> what's wrong at {sites.site_of(charger)}?",
            }
            body = event_body(mention, "EvDEMO1")
            status, _ = signed_post(url, body, "application/json", secret=secret, timeout=30)
            say(steps.mention_result(sites.site_of(charger), status))
            stub.wait_for("chat.postMessage", len(stub.calls_to("chat.postMessage")) + 1, 30)

            say(steps.alert_thread(DEMO_CHARGER))
            base = last + timedelta(minutes=5)
            fault = {
                "connectorId": 1,
                "errorCode": "GroundFailure",
                "status": "Faulted",
                "vendorId": "Acme",
                "info": "RCD tripped <!channel>",
            }
            boot = {"chargePointVendor": "Acme", "chargePointModel": "X1"}
            lines = [_frame(base.isoformat(), "BootNotification", boot)]
            for i in range(3):  # the third occurrence escalates ("recurring")
                at = (base + timedelta(minutes=1 + i)).isoformat().replace("+00:00", "Z")
                lines.append(_frame(at, "StatusNotification", {**fault, "timestamp": at}))
            for line in lines:
                pipeline.process(read_lines([line], source="demo"))
            services.deliver()
            time.sleep(2.5)  # let the debounced root edit fall due
            services.deliver()
            with Session(engine) as s:
                anchor = s.scalars(
                    select(SlackAlertMessage).order_by(SlackAlertMessage.id.desc())
                ).first()
            if anchor is not None and anchor.ts:
                for action_id in ("incident_ack", "incident_resolve"):
                    payload = {
                        "type": "block_actions",
                        "user": {"id": "U0ONCALL"},
                        "team": {"id": TEAM},
                        "api_app_id": APP_ID,
                        "trigger_id": stub.trigger_id(),
                        "response_url": stub.response_url_base + "a",
                        "channel": {"id": anchor.channel},
                        "container": {"channel_id": anchor.channel, "message_ts": anchor.ts},
                        "message": {"ts": anchor.ts},
                        "actions": [
                            {
                                "action_id": action_id,
                                "block_id": "b",
                                "type": "button",
                                "value": json.dumps({"incident": anchor.incident_id}),
                            }
                        ],
                    }
                    status, _ = signed_post(
                        url, action_body(payload), FORM, secret=secret, timeout=30
                    )
                    say(steps.button_result(action_id, status))
                    n = len(stub.calls_to("chat.update"))
                    stub.wait_for("chat.update", n + 1, timeout=30)
        deadline = time.monotonic() + 30
        while worker.pending() and time.monotonic() < deadline:  # listeners may still send
            services.deliver()
            time.sleep(0.1)
        with Session(engine) as s:
            failed = s.scalars(select(SlackOutbox).where(SlackOutbox.status == "failed")).all()
        say("")
        say(steps.received(len(stub.calls)))
        for line in stub.transcript():
            say(line)
        if failed:
            say(steps.failed(failed))
        engine.dispose()
        return len(stub.calls)
