"""The node's own database (SQLAlchemy 2): log, case events, cases, outbox, inbox."""
