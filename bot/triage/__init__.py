"""The deterministic rule core: messages in, diagnoses out (no LLM, no database).

Owns the per-port state, the ordered rule table (`rules/__init__.py`), the Diagnosis
value and its evidence sentences (from templates), and `explain` (a dry run over a log).

May import: fold, kb, ocpp, templating, text, vocab
"""
