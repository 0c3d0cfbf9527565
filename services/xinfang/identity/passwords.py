"""Password hashing for built-in accounts: argon2id (RFC 9106) via argon2-cffi.

GB/T 22239-2019 8.1.4.1: passwords are stored only as salted, slow hashes. The parameters
are argon2-cffi's defaults (RFC 9106 "low memory" profile); a hash made with older
parameters is re-hashed at the next successful sign-in (`needs_rehash`).
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .errors import AccountInvalid

MIN_LENGTH = 8  # 等保 asks for complexity; length is what counts against guessing

_hasher = PasswordHasher()  # argon2id
_DUMMY = _hasher.hash("not a password of anyone")


def check_strength(password: str) -> None:
    """Refuse (AccountInvalid, 422) a password shorter than MIN_LENGTH or of one class only."""
    classes = sum(
        any(test(c) for c in password)
        for test in (str.isdigit, str.islower, str.isupper, lambda c: not c.isalnum())
    )
    if len(password) < MIN_LENGTH or classes < 2:
        raise AccountInvalid(
            f"口令至少 {MIN_LENGTH} 个字符且含两类字符 / a password needs at least "
            f"{MIN_LENGTH} characters of two kinds (digits, lower, upper, symbols)"
        )


def hash_password(password: str) -> str:
    """The argon2id PHC string of `password`."""
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True if `password` matches `stored`. With `stored` None (no such account) a dummy
    hash is checked so that an unknown person costs the same time as a wrong password."""
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)
