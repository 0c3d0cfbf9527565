"""Operator tools that work on the broker directly (dead letters, …)."""
