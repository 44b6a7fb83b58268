"""The database: the append-only message log, charger and port state, sites, names.

Owns the SQLAlchemy base and models, engines and migrations (alembic), the bulk ingest
of parsed messages (`ingest`, `loader`) and the read queries later stages share.

May import: config, diskcache, ocpp, text, vocab
"""
