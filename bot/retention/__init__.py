"""Retention: what the database keeps, for how long, and pruning that changes no answer.

Owns the retention policy (raw frames, evidence frames, derived rows; days of the log's
own clock), `faultbot db prune` and its dry run. Pruning only removes frames that every
fold has already folded (the checkpoints say so), never a frame a diagnosis rests on,
and never the newest frame that tells who a charger is or what state a port is in, so
a worker that replays the remaining log rebuilds the same context.

May import: config, fold, incidents, schedule, store, vocab
"""
