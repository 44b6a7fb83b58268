"""The triage rules, in order. The first decisive rule that returns a verdict wins;
the modifiers then adjust it. Follow-up rules (phantom_boot_fault, fault_while_charging)
and the time-based silent_charger and charging_without_energy are called by the engine
on later evidence (the tick runs on the feed clock).

Owns: the rules themselves, pure functions of a FaultContext. May import: the rest of
bot.triage (state, config, policy, phrasing, ports, views), bot.kb.types, bot.ocpp.events
and bot.vocab; never the store or Slack.

| rule                | kind      | module          |
|---------------------|-----------|-----------------|
| not_a_fault         | decisive  | quirks          |
| estop_phrase        | decisive  | estop           |
| safety_first / safety_repeat | decisive | safety |
| site_wide_cause     | decisive  | site_wide       |
| vehicle_following   | decisive  | vehicle         |
| reset_failure       | decisive  | hardware        |
| meter_failure       | decisive  | hardware        |
| reader_failure      | decisive  | hardware        |
| degraded_not_down   | decisive  | quirks          |
| suspected_phantom   | decisive  | phantom         |
| no_information      | decisive  | no_information  |
| kb_match            | decisive  | kb_match        |
| standard_code       | decisive  | kb_match        |
| unknown_code        | fallback  | no_information  |
| still_working       | modifier  | modifiers       |
| fault_while_charging| modifier (KB quirk) and follow-up (meter rose) | charging |
| flapping            | modifier  | modifiers       |
| recurrence          | modifier  | modifiers       |
| phantom_boot_fault  | follow-up | phantom         |
| silent_charger      | tick      | silent          |
| charging_without_energy | tick  | energy          |
"""

from __future__ import annotations

from collections.abc import Callable

from bot.triage.rules.base import FaultContext, Verdict
from bot.triage.rules.charging import charging_quirk
from bot.triage.rules.energy import charging_without_energy
from bot.triage.rules.estop import estop_phrase
from bot.triage.rules.hardware import meter_failure, reader_failure, reset_failure
from bot.triage.rules.kb_match import kb_match, standard_code
from bot.triage.rules.modifiers import flapping, recurrence, still_working
from bot.triage.rules.no_information import no_information, unknown_code
from bot.triage.rules.phantom import suspected_phantom
from bot.triage.rules.quirks import degraded_not_down, not_a_fault
from bot.triage.rules.safety import safety_rule
from bot.triage.rules.site_wide import site_wide_cause
from bot.triage.rules.vehicle import vehicle_following

Rule = Callable[[FaultContext], Verdict | None]
Modifier = Callable[[FaultContext, Verdict], Verdict]

DECISIVE: tuple[Rule, ...] = (
    not_a_fault,
    estop_phrase,
    safety_rule,
    site_wide_cause,
    vehicle_following,
    reset_failure,
    meter_failure,
    reader_failure,
    degraded_not_down,
    suspected_phantom,
    no_information,
    kb_match,
    standard_code,
)

MODIFIERS: tuple[Modifier, ...] = (still_working, charging_quirk, flapping, recurrence)

# Time-based rules, in the order the engine's tick runs them (silent_charger is per
# charger; these are per port with a session).
TICK_PORT_RULES = (charging_without_energy,)


def decide(ctx: FaultContext) -> Verdict:
    verdict = None
    for rule in DECISIVE:
        verdict = rule(ctx)
        if verdict is not None:
            break
    if verdict is None:
        verdict = unknown_code(ctx)
    for modifier in MODIFIERS:
        verdict = modifier(ctx, verdict)
    return verdict
