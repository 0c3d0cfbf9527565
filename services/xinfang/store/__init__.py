"""The node's own database (SQLAlchemy 2; SQLite or PostgreSQL, schema versioned with Alembic
in ``migrations/``): log, case events, cases, outbox, inbox."""
