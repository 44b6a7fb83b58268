"""The daily digest: a day's incidents and diagnoses summed up per site and owner.

Owns building the digest model from the database and rendering it as terminal text,
Markdown or JSON (Slack renders it in bot.slack.render).

May import: actions, findings, incidents, kb, store, templating, text, vocab
"""
