"""Shapes of the third-party logs and exports `bot.ocpp.readers` reads, one module each.

Each module knows one peer's format (from its source code) and nothing about Records:
the readers call it and build Records from what it finds.

Owns: one parser per third-party log format. May import: bot.ocpp.events (the frame
types) and the standard library; never the readers, the store or Slack.
"""
