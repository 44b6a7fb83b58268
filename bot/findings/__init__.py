"""Findings over the whole stored history, which no single port's triage can see.

Owns the firmware and model regression analysis: fault rates per port-day before and
after a model's firmware change (and between the models of one site), with a
rate-ratio test and minimum sample sizes so noise is not reported; and connection
health (boot loops, reconnect storms, clocks far off: connection.py). Reads the stored
log (boots, firmware status, connection events, heartbeats) and incidents;
deterministic for the same stored data.

May import: incidents, ocpp, store, templating, text, vocab
"""
