"""What an operator watches: logs (logs.py), Prometheus metrics (metrics.py) and the
liveness/readiness probes (ready.py). Nothing here changes what faultbot decides.

May import: feeds, store, vocab
"""
