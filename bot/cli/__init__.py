"""The `faultbot` command line: thin click commands over the stages.

May import: actions, answers, ask, bench, config, digest, feeds, findings, fold, incidents, kb,
obs, ocpp, pipeline, report, retention, sample, slack, store, templating, text, triage, vocab
"""
