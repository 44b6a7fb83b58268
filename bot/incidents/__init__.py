"""Incidents: diagnoses grouped per port or site into open/resolved outages.

Owns the incident table and its lifecycle (open, escalate, recover after a hold-down,
resolve), the change events later stages publish, and uptime figures.

May import: ocpp, store, triage, vocab
"""
