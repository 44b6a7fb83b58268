"""The knowledge base: manufacturer manuals, schemes and the code-text reader.

Owns loading and linting knowledge/*.yaml, vendor resolution, the matcher that turns
(vendor, model, firmware, code, info) into a scoped Match with evidence, and the
runtime store of taught entries and unknown codes.

May import: diskcache, store, templating, text, vocab
"""
