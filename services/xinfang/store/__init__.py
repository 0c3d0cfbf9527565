"""The node's own database (SQLAlchemy 2; SQLite or PostgreSQL, schema versioned with Alembic
in ``migrations/``), by role behind the Protocols in ``protocols.py``: case events
(``case_events.py``), the node log and outbox (``log_outbox.py``), the inbox with parked events
and chain sources (``inbox.py``), idempotency keys; ``unit_of_work.py`` spans them in one
transaction (docs/decisions/015-store-by-role.md)."""
