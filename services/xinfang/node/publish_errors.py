"""Which publish errors will never succeed on retry, and so must not hold up the outbox.

A record the broker refuses for what it *is* (too large, addressed to a topic this node may not
write or that does not exist, malformed) fails the same way on every retry: the relay sets it
aside with the reason returned here and publishes the rows after it. Everything else (broker
away, leader moving, not enough in-sync replicas, request timed out) is an outage: the relay
retries it, as before.
"""

from __future__ import annotations

from aiokafka import errors

# error class -> the reason stored on the set-aside outbox row (stable, for operators and alarms)
_NEVER_SUCCEEDS: dict[type[BaseException], str] = {
    # the producer's own limit (max_request_size) or the broker's / topic's (error 10)
    errors.MessageSizeTooLargeError: "record-too-large",
    errors.RecordTooLargeError: "record-too-large",
    errors.RecordListTooLargeError: "record-too-large",  # error 18
    errors.TopicAuthorizationFailedError: "topic-not-authorised",  # error 29
    errors.ClusterAuthorizationFailedError: "cluster-not-authorised",  # error 31
    errors.InvalidTopicError: "invalid-topic",  # error 17: a name the broker cannot create
    errors.CorruptRecordException: "invalid-record",  # error 2, when the producer gives up
    errors.UnsupportedForMessageFormatError: "invalid-record",  # error 43
}

# A topic may be unknown for a moment (just created, metadata not yet everywhere); after this
# long (seconds of the same row failing so) it is taken as one that stays unknown.
UNKNOWN_TOPIC_GRACE_S = 120.0


def never_succeeds(
    exc: BaseException, unknown_for_s: float = 0.0, grace_s: float = UNKNOWN_TOPIC_GRACE_S
) -> str | None:
    """The set-aside reason for a publish error no retry can cure; None for a transient one.

    `unknown_for_s`: how long the same outbox row has failed with an unknown topic or partition;
    that error is "unknown-topic" once this reaches `grace_s`, transient before. (The broker's
    INVALID_RECORD, error 87, has no aiokafka class: it arrives as UnknownError and is retried;
    the relay's stuck alarm reports it.)
    """
    for kind, reason in _NEVER_SUCCEEDS.items():
        if isinstance(exc, kind):
            return reason
    if isinstance(exc, errors.UnknownTopicOrPartitionError):
        return "unknown-topic" if unknown_for_s >= grace_s else None
    return None


def is_unknown_topic(exc: BaseException) -> bool:
    return isinstance(exc, errors.UnknownTopicOrPartitionError)
