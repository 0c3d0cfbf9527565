"""HTTP status of every error the API answers with: the web layer's mapping, not the domain's.

Looked up along the class's MRO, so a subclass answers like its nearest listed ancestor
(e.g. every InvalidInput subclass is 422); a refusal by the rules not listed is 409 Conflict.
An XinfangError of another family reaching a handler is the node's fault, not the client's.
"""

from __future__ import annotations

from ..commands.input_errors import BodyTooLarge, IdempotencyInterrupted, InvalidJson, JsonTooDeep
from ..domain.acts import BackdateNeedsReason, TimeBeforePredecessor, TimeInFuture
from ..domain.errors import (
    CaseNotFound,
    DomainError,
    InvalidInput,
    NotHolder,
    NotPetitionOffice,
    NotThisNode,
    UnknownBody,
    UnknownDivision,
    XinfangError,
)
from ..domain.lifecycle_errors import NotIssuer, TooManyRepresentatives, WrongReviewer
from ..domain.rule_errors import (
    CalendarMissing,
    DeadlineMovesBackwards,
    ExtensionTooLong,
    NoHigherLevel,
    RulesInvalid,
)
from ..identity.errors import (
    AccountInvalid,
    AuthenticationFailed,
    HostNotAllowed,
    NotPermitted,
    SignInThrottled,
)
from ..identity.oidc import OidcProviderUnavailable

STATUS: dict[type[XinfangError], int] = {
    XinfangError: 500,  # configuration, storage, wire: not the client's doing
    DomainError: 409,  # refused by the rules in the case's current state
    # 400/413: the body cannot be read at all
    InvalidJson: 400,
    JsonTooDeep: 400,
    BodyTooLarge: 413,
    # 401: who is asking? / 403: this person or body may not do this
    AuthenticationFailed: 401,
    NotPermitted: 403,
    HostNotAllowed: 400,
    AccountInvalid: 422,
    SignInThrottled: 429,
    NotHolder: 403,
    NotThisNode: 403,
    NotPetitionOffice: 403,
    NotIssuer: 403,
    WrongReviewer: 403,
    # 404
    CaseNotFound: 404,
    # 409: the same key is still being answered
    IdempotencyInterrupted: 409,
    # 422: well-formed but not acceptable input
    InvalidInput: 422,
    UnknownDivision: 422,
    UnknownBody: 422,
    TooManyRepresentatives: 422,
    ExtensionTooLong: 422,
    DeadlineMovesBackwards: 422,
    NoHigherLevel: 422,
    TimeInFuture: 422,
    TimeBeforePredecessor: 422,
    BackdateNeedsReason: 422,
    # 500/503: the node's data
    RulesInvalid: 500,
    CalendarMissing: 503,  # no holiday schedule for that year yet: retry once it is installed
    OidcProviderUnavailable: 503,  # the identity provider's keys cannot be fetched: retry later
}


def http_status(err: XinfangError) -> int:
    """The status to answer `err` with (its nearest ancestor in STATUS)."""
    for cls in type(err).__mro__:
        status = STATUS.get(cls)
        if status is not None:
            return status
    return 500  # unreachable: XinfangError is in the table
