"""TOTP second factor (RFC 6238: 30-second steps, 6 digits, SHA-1 — what authenticator apps
scan) via pyotp. GB/T 22239-2019 8.1.4.1 d: two factors, one of them cryptographic.

A code is accepted for the step it belongs to and one step either side (clock drift), and
never twice: the caller keeps the last accepted step and passes it back (`after`).
"""

from __future__ import annotations

from datetime import datetime

import pyotp

STEP_S = 30
ISSUER = "xinfang"


def new_secret() -> str:
    """A fresh base32 secret (160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, person: str, division: str) -> str:
    """The otpauth:// URI an authenticator app scans (issuer `xinfang <division>`)."""
    return pyotp.TOTP(secret).provisioning_uri(name=person, issuer_name=f"{ISSUER} {division}")


def code_at(secret: str, moment: datetime) -> str:
    """The code for `moment` (for tools that hold the secret: devtools/staff.py)."""
    return pyotp.TOTP(secret).at(moment)


def accepted_step(secret: str, code: str, now: datetime, after: int | None) -> int | None:
    """The step `code` is valid for at `now` (±1 step), if later than `after`; else None."""
    if not (isinstance(code, str) and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // STEP_S
    for step in (current, current - 1, current + 1):
        if (after is None or step > after) and pyotp.utils.strings_equal(
            totp.generate_otp(step), code
        ):
            return step
    return None
