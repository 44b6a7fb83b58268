"""faultbot: OCPP feeds -> knowledge-base matcher -> triage rules -> incidents -> Slack.

One subpackage per stage; each one's __init__ says what it owns and what it may import
(tests/suite/test_suite_layers.py holds the stages to it).
"""
