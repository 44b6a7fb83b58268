"""The permission policy's decisions, against the Slack stand-in for channel membership.

Actions without a button yet (reopen, remote actions) are decided here too: every
handler asks the same Policy, so what is checked here holds for them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.config import DEFAULT_PERMISSIONS, Settings, SettingsError, load_settings
from bot.slack.models import SlackAlertMessage
from bot.slack.permissions import (
    MAX_INCIDENT_ID,
    Action,
    AlertHome,
    ChannelMembers,
    Policy,
    Refusal,
    alert_home,
    incident_id_of,
)
from bot.slack.stub import SlackStub

ADMIN, OPERATOR, MEMBER, STRANGER = "UADMIN", "U0OPS", "U0MEMBER", "U0STRANGER"


def policy_for(client: WebClient, **env: str) -> Policy:
    settings = load_settings(
        {"FAULTBOT_ADMINS": ADMIN, "FAULTBOT_OPERATORS": OPERATOR, **env}, dotenv=False
    )
    return Policy(settings, ChannelMembers(client))


@pytest.fixture
def policy(stub: SlackStub, client: WebClient) -> Policy:
    stub.set_members("CALERTS", MEMBER)
    return policy_for(client)


def test_safe_defaults(policy: Policy) -> None:
    expect: dict[Action, set[str]] = {
        Action.WHY: {ADMIN, OPERATOR, MEMBER},
        Action.ACK: {ADMIN, OPERATOR, MEMBER},
        Action.SNOOZE: {ADMIN, OPERATOR},
        Action.RESOLVE: {ADMIN, OPERATOR},
        Action.REOPEN: {ADMIN, OPERATOR},
        Action.REMOTE: {ADMIN, OPERATOR},
        Action.TEACH: {ADMIN},
        Action.SHARE: {ADMIN, OPERATOR, MEMBER},  # members of the channel it goes to
    }
    assert set(expect) == set(Action)
    for action, allowed in expect.items():
        people = (ADMIN, OPERATOR, MEMBER, STRANGER)
        got = {u for u in people if policy.allows(action, u, "CALERTS")}
        assert got == allowed, action
        assert not policy.allows(action, "", "CALERTS") and not policy.allows(action, None)


def test_channel_role_needs_the_alert_channel(policy: Policy) -> None:
    assert policy.allows(Action.ACK, MEMBER, "CALERTS")
    assert not policy.allows(Action.ACK, MEMBER, "COTHER")  # a member elsewhere only
    assert not policy.allows(Action.ACK, MEMBER, None)


def test_roles_are_configurable(client: WebClient, stub: SlackStub) -> None:
    stub.set_members("CALERTS", MEMBER)
    p = policy_for(client, FAULTBOT_PERMISSIONS="remote=admins, reopen=channel, ack=nobody")
    assert not p.allows(Action.REMOTE, OPERATOR) and p.allows(Action.REMOTE, ADMIN)
    assert p.allows(Action.REOPEN, MEMBER, "CALERTS")
    assert not p.allows(Action.ACK, ADMIN, "CALERTS")  # nobody means nobody
    assert p.allows(Action.RESOLVE, OPERATOR)  # untouched actions keep their default


@pytest.mark.parametrize(
    "value",
    ["remote", "remote=everyone", "explode=admins", "teach=channel", "ack=admins,why"],
)
def test_bad_permissions_setting_names_the_variable(value: str) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings({"FAULTBOT_PERMISSIONS": value}, dotenv=False)
    assert err.value.variable == "FAULTBOT_PERMISSIONS"


def test_operators_must_be_user_ids() -> None:
    with pytest.raises(SettingsError) as err:
        load_settings({"FAULTBOT_OPERATORS": "U0OK, alice"}, dotenv=False)
    assert err.value.variable == "FAULTBOT_OPERATORS" and "alice" in str(err.value)
    ok = load_settings({"FAULTBOT_OPERATORS": " U0A1 ,U0B2 "}, dotenv=False)
    assert ok.operators == frozenset({"U0A1", "U0B2"})
    assert load_settings({}, dotenv=False).permissions == DEFAULT_PERMISSIONS


def test_membership_is_paged_and_cached(stub: SlackStub, client: WebClient) -> None:
    users = [f"U{n:06d}" for n in range(2500)]
    stub.set_members("CBIG", *users)
    clock = [1000.0]
    members = ChannelMembers(client, ttl=60, monotonic=lambda: clock[0])
    assert members("CBIG") == frozenset(users)  # the last page too
    assert len(stub.calls_to("conversations.members")) == 3
    stub.set_members("CBIG", "U0NEW")
    clock[0] = 1059.0
    assert "U0NEW" not in (members("CBIG") or ())  # within the minute: cached
    clock[0] = 1060.0
    assert members("CBIG") == frozenset({"U0NEW"})  # a minute on: asked again


def test_membership_unknown_means_no(
    stub: SlackStub, client: WebClient, caplog: pytest.LogCaptureFixture
) -> None:
    stub.missing_channels.add("CGONE")
    p = Policy(Settings(operators=frozenset({OPERATOR})), ChannelMembers(client))
    assert not p.allows(Action.ACK, MEMBER, "CGONE")
    assert p.allows(Action.ACK, OPERATOR, "CGONE")  # operators need no membership
    (warning,) = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warning.startswith("could not list the members of CGONE: ")
    assert "channel_not_found" in warning


def test_an_action_missing_from_the_settings_is_nobodys() -> None:
    p = Policy(Settings(admins=frozenset({ADMIN}), permissions={}), lambda c: frozenset())
    assert p.role(Action.ACK) == "nobody"
    assert not p.allows(Action.ACK, ADMIN, "CALERTS")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (1, 1),
        (MAX_INCIDENT_ID, MAX_INCIDENT_ID),
        (MAX_INCIDENT_ID + 1, None),
        (True, None),
        (False, None),
        (0, None),
        (-1, None),
        (2**70, None),
        ("1", None),
        (1.0, None),
        (None, None),
        ([1], None),
    ],
)
def test_incident_ids(raw: Any, expected: int | None) -> None:
    assert incident_id_of(raw) == expected


def _anchor(session: Session, incident: int, root: int, channel: str, ts: str | None) -> None:
    session.add(
        SlackAlertMessage(
            incident_id=incident, root_incident_id=root, channel=channel, ts=ts,
            flap_key="port|S|CP-1|1", created_at=datetime(2026, 11, 20, tzinfo=UTC),
        )
    )
    session.flush()


def test_a_flapping_incident_lives_on_its_earlier_root(db_session: Session) -> None:
    # #2 reuses #1's root; its own row was claimed before the root was posted, so it
    # still has the configured channel name and no ts: the root's row is the truth.
    _anchor(db_session, 1, 1, "C0ALERTS", "1790000001.000001")
    _anchor(db_session, 2, 1, "#alerts", None)
    _anchor(db_session, 3, 3, "C0ALERTS", None)  # claimed, not posted yet
    assert alert_home(db_session, 1) == AlertHome("C0ALERTS", "1790000001.000001")
    assert alert_home(db_session, 2) == AlertHome("C0ALERTS", "1790000001.000001")
    assert alert_home(db_session, 3) is None  # nobody can have pressed its buttons
    assert alert_home(db_session, 4) is None


def test_check_incident_order_and_outcomes(db_session: Session, client: WebClient) -> None:
    _anchor(db_session, 1, 1, "C0ALERTS", "1.1")
    policy = Policy(Settings(operators=frozenset({OPERATOR})), ChannelMembers(client))
    check = partial(policy.check_incident, db_session, Action.RESOLVE)
    assert check(1, OPERATOR, "C0ALERTS", "1.1") == (1, AlertHome("C0ALERTS", "1.1"), None)
    assert check(1, STRANGER, "C0ALERTS", "1.1")[2] is Refusal.NOT_ALLOWED
    assert check(1, OPERATOR, "C0OTHER", "1.1")[2] is Refusal.WRONG_PLACE
    assert check(1, OPERATOR, "C0ALERTS", "1.2")[2] is Refusal.WRONG_PLACE
    assert check(1, OPERATOR, None, None)[2] is Refusal.WRONG_PLACE
    assert check(2, OPERATOR, "C0ALERTS", "1.1") == (2, None, Refusal.NOT_FOUND)
    assert check(True, OPERATOR, "C0ALERTS", "1.1") == (None, None, Refusal.NOT_FOUND)
