"""The weekly fleet report: uptime trend per site over 30 days, top causes and who had
to act, chronic ports, site visits avoided, regressions, connection findings and unknown
codes waiting.

One `WeeklyReport` (model.py) is built once from the store (build.py) and rendered by
both the terminal template (render.py) and the Slack stage (bot.slack.render.report),
so the two never show different figures; charts.py draws its PNG charts.

May import: digest, findings, incidents, kb, store, templating, text, vocab
"""
