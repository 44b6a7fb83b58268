"""Block Kit renderers: domain objects in, (text fallback, blocks) out. Words come from
templates/slack; limits are enforced by `budget`."""
