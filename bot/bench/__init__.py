"""Benchmarks (`faultbot bench ...`): each prints its figure next to a floor or a peer
measured in the same run, never a bare number.

May import: answers, ask, digest, feeds, incidents, kb, ocpp, pipeline, sample, store, triage,
templating, text, vocab
"""
