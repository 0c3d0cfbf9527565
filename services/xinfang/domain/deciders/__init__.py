"""Deciders by phase: each `decide_*` is pure — it takes the node's Context, the case (folded
from events) and a command (domain/commands.py), and returns the events to record or raises
a DomainError naming the rule it enforces. It never does I/O; the service commits the events.

intake (登记) → routing (转送/交办/诉访分离) → acceptance (异议/受理) → handling (延期/意见/送达/
办结/终结) → review (复查/复核) → supervision (督办/评价/逾期); guards are the shared checks.
Each act's authority (who may do it on the case in its state) is one `may_*` function beside
its decider; `inbound.authorise_inbound` runs the same ones for a neighbour's event.
"""

from .acceptance import decide_accept, decide_object, decide_reject, decide_return
from .handling import decide_close, decide_completion, decide_extend, decide_opinion, decide_serve
from .inbound import authorise_inbound
from .intake import decide_register
from .review import (
    decide_re_review,
    decide_request_re_review,
    decide_request_review,
    decide_review,
)
from .routing import decide_assign, decide_divert, decide_transfer
from .supervision import decide_answer, decide_evaluate, decide_missed, decide_supervise

__all__ = [
    "authorise_inbound",
    "decide_accept",
    "decide_answer",
    "decide_assign",
    "decide_close",
    "decide_completion",
    "decide_divert",
    "decide_evaluate",
    "decide_extend",
    "decide_missed",
    "decide_object",
    "decide_opinion",
    "decide_re_review",
    "decide_register",
    "decide_reject",
    "decide_request_re_review",
    "decide_request_review",
    "decide_return",
    "decide_review",
    "decide_serve",
    "decide_supervise",
    "decide_transfer",
]
