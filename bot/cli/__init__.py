"""The `faultbot` command line: thin click commands over the stages.

May import: answers, bench, config, digest, feeds, findings, fold, incidents, kb, ocpp, pipeline,
retention, sample, slack, store, templating, text, triage, vocab
"""
