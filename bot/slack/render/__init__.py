"""Block Kit renderers: domain objects in, (text fallback, blocks) out. Words come from
templates/slack; limits are enforced by `budget`.

Owns: the Block Kit shapes and Slack's size limits. May import: bot.slack.escape and the
domain's read-only views (incidents, digest, ask models); never the outbox, the store
session or the Slack client: rendering posts nothing.
"""
