"""Generated feeds: the demo's sample network and seeded fleets for benchmarks and tests.

May import: ocpp, text, vocab
"""
