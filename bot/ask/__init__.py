"""Understanding questions people type: find the fleet's own names in the text first
(chargers, ports, sites, vendors, models, codes, times), then decide what is asked.

Deterministic and fast: one in-memory index of names per fleet snapshot
(bot.ask.index), cue words from knowledge/asking.yaml (bot.ask.cues). Also owns the
time windows of questions and what happened to a charger or site in one.

May import: answers, incidents, kb, store
"""
