"""Topic names (docs/integrators.md): one log, one inbox and one dead-letter topic per division,
and two shared topics: the schema catalogue and the public status feed.

A prefix keeps test runs and deployments that share a broker apart.
"""

from __future__ import annotations

from dataclasses import dataclass

# Header of a record the relay set aside (a record the broker refused for good) and an operator
# re-sent (`xinfang outbox resend`): it may arrive after later records of its source, which the
# receiving node and `audit verify` accept (docs/decisions/012-relay-sets-aside-refused-records.md).
RESENT_HEADER = "xinfang_resent"


TRAIL_SUFFIX = ".trail"


def is_trail(topic: str) -> bool:
    """True for an operator trail topic (`TopicNames.trail`)."""
    return topic.endswith(TRAIL_SUFFIX)


@dataclass(frozen=True)
class TopicNames:
    prefix: str = ""

    def log(self, division: str) -> str:
        """The node's own append-only event log (single writer, kept forever)."""
        return f"{self.prefix}xinfang.{division}.log"

    def inbox(self, division: str) -> str:
        """What other nodes address to this node (written by parent and children)."""
        return f"{self.prefix}xinfang.{division}.inbox"

    def deadletter(self, division: str) -> str:
        """Inbound records the node could not accept, with the reason and the original bytes."""
        return f"{self.prefix}xinfang.{division}.deadletter"

    def trail(self, division: str) -> str:
        """The node's operator audit trail (decision 027): single writer, signed and chained
        entries, read by audit administrators only, kept at least 180 days."""
        return f"{self.prefix}xinfang.{division}{TRAIL_SUFFIX}"

    def schemas(self) -> str:
        """Every writer schema, compacted, key = fingerprint (hex), value = the .avsc JSON."""
        return f"{self.prefix}xinfang.schemas"

    def public_status(self) -> str:
        """Case status without personal data, for petitioner-facing apps (key = case id)."""
        return f"{self.prefix}xinfang.public.status"
