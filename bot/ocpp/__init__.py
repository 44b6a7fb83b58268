"""OCPP frames in, typed messages out: the protocol stage.

Owns reading log lines and envelopes into records (`readers`), validating them against
the `ocpp` package's bundled JSON schemas (`schemas`), correlating CALLs with their
replies (`parse`), cleaning hostile values (`cleaning`) and pulling the facts triage
reads out of each payload (`facts`, `events`). Pure: no database, no Slack.

May import: text, vocab
"""
