"""OCPP frames in, typed messages out: the protocol stage.

Owns reading log lines and envelopes into records (`readers`), validating them against
the `ocpp` package's bundled JSON schemas (`schemas`), correlating CALLs with their
replies (`parse`), cleaning hostile values (`cleaning`), pulling the facts triage
reads out of each payload (`facts`, `events`) and the typed reasons for what is dropped
on the way (`reasons`). Pure: no database, no Slack.

May import: diskcache, text, vocab
"""
