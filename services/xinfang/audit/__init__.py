"""Auditors: node keys and signed checkpoints, log replay and verification, export, compliance
and reports (docs/decisions/006-audit-chain-checkpoints.md)."""
