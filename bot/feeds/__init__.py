"""Feeds from a CSMS into the pipeline: webhook, broker (RabbitMQ), OCPP-J tap, SteVe.

Owns each feed's transport, its handling of bad records (reject with a reason, never
stall), health and lag reporting, and the runner that starts the configured feeds.

May import: config, ocpp, pipeline, store, text, vocab
"""
