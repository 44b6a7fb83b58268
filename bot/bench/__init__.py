"""Benchmarks (`faultbot bench ...`): each prints its figure next to a floor or a peer
measured in the same run, never a bare number.

May import: answers, ask, digest, feeds, incidents, kb, ocpp, pipeline, retention, sample,
store, templating, text, triage, vocab
"""
