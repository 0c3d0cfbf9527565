"""Times of acts given by a client (receipt, service, request): bounded by the clock and by
the case's own history (DOMAIN.md §11).

A client may state when an act happened — a letter received yesterday, a notice served by
post last week — but not in the future (beyond a small clock-skew tolerance), never before
the act it follows (a document is not served before it was issued, a review is not
requested before the opinion was served), and back-dated beyond a small tolerance only
with a stated reason, which the event records (`backdate_reason`). The tolerances are the
node's (`Context.future_tolerance`, `Context.backdate_tolerance`; XINFANG_FUTURE_TOLERANCE
and XINFANG_BACKDATE_TOLERANCE, in seconds). The first is the clock skew allowed between a
client and the node, both ways: a time up to that far in the future is accepted, and one up
to that far before the act it follows is read as that act's time (a client that fills in
its own "now" for a notice served with the decision is not refused for being a second slow).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from .errors import DomainError

DEFAULT_FUTURE_TOLERANCE = timedelta(minutes=5)  # clocks of clients and nodes differ a little
DEFAULT_BACKDATE_TOLERANCE = timedelta(hours=1)  # later than this, say why
MAX_REASON_LENGTH = 500


class TimeInFuture(DomainError):
    code = "XF-TIME-IN-FUTURE"
    zh = "行为时间不能晚于当前时间"
    en = "The time of an act may not lie in the future"


class TimeBeforePredecessor(DomainError):
    code = "XF-TIME-BEFORE-PREDECESSOR"
    zh = "行为时间不能早于其所接续的行为（如送达早于文书出具、请求早于意见送达）"
    en = "The time of an act may not precede the act it follows (e.g. service before issue)"


class BackdateNeedsReason(DomainError):
    code = "XF-TIME-BACKDATED"
    zh = "补录的行为时间早于当前时间超过允许范围，须说明补录理由 (backdate_reason)"
    en = "An act back-dated beyond the tolerance needs a stated reason (backdate_reason)"


def reason_text(reason: str | None) -> str | None:
    """A stated reason, stripped; None when blank. Refuses an overlong one (422)."""
    if reason is None or not reason.strip():
        return None
    if len(reason) > MAX_REASON_LENGTH:
        raise BackdateNeedsReason(
            f"补录理由不超过 {MAX_REASON_LENGTH} 字 / at most {MAX_REASON_LENGTH} characters"
        )
    return reason.strip()


def act_time(
    now: datetime,
    moment: datetime,
    *,
    what: str,
    after: datetime | None = None,
    after_what: str = "",
    reason: str | None = None,
    future_tolerance: timedelta = DEFAULT_FUTURE_TOLERANCE,
    backdate_tolerance: timedelta = DEFAULT_BACKDATE_TOLERANCE,
) -> tuple[datetime, str | None]:
    """Check the client-given time `moment` of an act (named `what`) recorded at `now`.

    `after` is the time of the act it follows (`after_what`), if any. Returns the time to
    record (`moment`, or `after` when `moment` precedes it by no more than the clock skew)
    and the reason to record (None if none was given). Raises TimeInFuture,
    TimeBeforePredecessor or BackdateNeedsReason (all HTTP 422); a refused command records
    nothing.
    """
    stated = reason_text(reason)
    if moment > now + future_tolerance:
        raise TimeInFuture(f"{what} {moment.isoformat()} 晚于 {now.isoformat()}", field=what)
    if after is not None and after - future_tolerance <= moment < after:
        moment = after  # the two clocks differ a little: the act follows its predecessor
    if after is not None and moment < after:
        raise TimeBeforePredecessor(
            f"{what} {moment.isoformat()} 早于{after_what} {after.isoformat()}",
            field=what,
            earliest=after.isoformat(),
        )
    if now - moment > backdate_tolerance and stated is None:
        raise BackdateNeedsReason(
            f"{what} {moment.isoformat()} 早于当前时间 {now - moment}，"
            f"允许 {backdate_tolerance} / earlier than now by {now - moment}",
            field=what,
        )
    return moment, stated
