"""Unit-test fixtures shared by every module of tests/unit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher

from xinfang.identity import passwords


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashes() -> Iterator[None]:
    """argon2id with its least cost (one pass over 8 KiB) instead of the production profile
    (RFC 9106 low-memory: three passes over 64 MiB): unit tests create and sign in staff by
    the hundred, and those hashes were a large share of their time (decision 039). The same
    code paths run — hash, verify, re-hash check — only cheaper; the node processes of the
    integration tests keep the production parameters."""
    patch = pytest.MonkeyPatch()
    patch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    yield
    patch.undo()
