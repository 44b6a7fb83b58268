"""The Slack side: the bolt app, listeners, outbox, alerts, digest job and App Home.

Listeners stay thin (ack, then hand work to the domain); every post goes through the
transactional outbox; vendor text is escaped before it reaches Slack (`escape`).

May import: actions, answers, ask, config, digest, fold, incidents, kb, ocpp, pipeline, report,
sample, schedule, store, templating, text, vocab
"""
