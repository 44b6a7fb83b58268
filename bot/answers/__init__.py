"""Plain-English answers: `why` for a charger, `site` for a site.

Owns resolving what a person typed to a charger or site and building the answer model
that the terminal and Slack both render.

May import: actions, digest, incidents, kb, store, templating, text, vocab
"""
