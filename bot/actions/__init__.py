"""Remote actions on chargers: the stage after incidents.

An operator (from an alert thread) or the first-aid policy asks for an action on a
port (soft/hard reset, unlock, make unavailable/available, trigger status); this stage
checks the limits (one reset per port per hour, never a reset for a repeated safety
fault), audits it (`remote_actions`), carries it out through the channel that reaches
the charger (the OCPP-J tap, or CitrineOS's HTTP API), and later judges whether it
fixed the fault (back up within the policy's window). It never talks to Slack: the
Slack stage reads the audit rows and writes the thread.

May import: config, feeds, incidents, kb, store, vocab
"""
