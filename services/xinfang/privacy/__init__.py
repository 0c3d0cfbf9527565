"""Personal data protected by cryptography (issue 15, DOMAIN.md §10): field encryption at rest
(`fields.py`), keyed hashes for matching without clear text (`blind.py`), the node's data keys
(`keyfile.py`) and per-record envelopes readable only by the entitled divisions (`envelope.py`).
"""
