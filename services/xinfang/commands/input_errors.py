"""Refusals of the HTTP input layer: bodies and fields beyond their bounds (commands/limits.py)."""

from __future__ import annotations

from ..domain.errors import DomainError, InvalidInput


class BodyTooLarge(DomainError):
    code = "XF-BODY-TOO-LARGE"
    zh = "请求体过大"
    en = "The request body is too large"


class InvalidJson(DomainError):
    code = "XF-INVALID-JSON"
    zh = "请求体不是合法的 JSON"
    en = "The request body is not valid JSON"


class JsonTooDeep(DomainError):
    code = "XF-JSON-TOO-DEEP"
    zh = "请求体嵌套层数过多"
    en = "The request body is nested too deeply"


class FieldTooLong(InvalidInput):
    code = "XF-FIELD-TOO-LONG"
    zh = "字段过长"
    en = "A field is too long"


class UnknownField(InvalidInput):
    """A request field the API does not define: refused, never dropped silently (issue 15)."""

    code = "XF-UNKNOWN-FIELD"
    zh = "请求中有本接口未定义的字段"
    en = "The request has a field this API does not define"


class ReasonRequired(InvalidInput):
    """Personal data in full only with a stated reason (个人信息保护法 Art. 51; decision 030)."""

    code = "XF-REASON-REQUIRED"
    zh = "查看完整个人信息须说明理由"
    en = "Viewing personal data in full needs a stated reason"


class ValueOutOfRange(InvalidInput):
    code = "XF-VALUE-OUT-OF-RANGE"
    zh = "数值超出允许范围"
    en = "A number is outside its allowed range"


class TimeOutOfRange(InvalidInput):
    code = "XF-TIME-OUT-OF-RANGE"
    zh = "时间超出可受理的范围"
    en = "A time is outside the range this node accepts"


class IdempotencyKeyReused(InvalidInput):
    code = "XF-IDEMPOTENCY-KEY-REUSED"
    zh = "该幂等键已用于另一个请求"
    en = "This Idempotency-Key was used for a different request"


class IdempotencyKeyInvalid(InvalidInput):
    code = "XF-IDEMPOTENCY-KEY-INVALID"
    zh = "幂等键格式错误"
    en = "The Idempotency-Key header is malformed"


class IdempotencyInterrupted(DomainError):
    """A request with this key began but its answer was never recorded (the node stopped
    in between): whether it took effect is unknown, so it is not repeated."""

    code = "XF-IDEMPOTENCY-INTERRUPTED"
    zh = "使用该幂等键的请求曾中断，结果未知，请先查询事项再决定是否用新键重试"
    en = "A request with this key was interrupted; check the cases before retrying with a new key"
