"""The fold: one ordered pass over the stored message log that drives triage and incidents.

Everything derived (diagnoses, incidents, port history) is a function of the messages in
the order they were stored, never of how they were batched or of restarts:

- `clock.FeedClock`: the one clock for time-based rules (silent chargers, recovery
  hold-downs). It is the newest CSMS time seen in the log; it never goes backwards, and
  time-based rules run when it crosses a fixed grid (every minute of feed time), so the
  same messages cross the same grid points however they are batched.
- `checkpoint`: the fold's in-memory context (triage history, CALL correlation, the
  clock) saved with the id of the last message folded. A restarted worker loads it and
  replays the messages stored after it, so it continues exactly where the last one was.

May import: store
"""
