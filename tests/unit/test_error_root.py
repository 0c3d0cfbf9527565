"""Issue 11 item 5: one error root with families and stable codes; HTTP statuses are the web
layer's (api/errors.py) and stay what the API answered before."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import xinfang
from xinfang.api.errors import http_status
from xinfang.commands import input_errors
from xinfang.domain import acts, errors, lifecycle_errors, rule_errors
from xinfang.domain.errors import (
    AccessError,
    ConfigurationError,
    DomainError,
    StorageError,
    WireError,
    XinfangError,
)

# The chaos harness's own "this step never took effect": caught by the harness, never shown to
# people as an error of the system.
NOT_YET = {"xinfang.devtools.chaos_scenario.StepFailed"}


def _exception_classes() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(xinfang.__path__, "xinfang."):
        if ".migrations" in info.name or info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseException)
                and obj.__module__ == module.__name__
            ):
                found[f"{module.__name__}.{name}"] = obj
    return found


def test_every_exception_class_of_xinfang_is_a_xinfang_error_of_one_family() -> None:
    classes = _exception_classes()
    assert len(classes) > 40
    families = (DomainError, WireError, ConfigurationError, StorageError, AccessError)
    strays = [
        name
        for name, cls in classes.items()
        if name not in NOT_YET
        and cls not in families
        and not (issubclass(cls, XinfangError) and issubclass(cls, families))
        and cls is not XinfangError
    ]
    assert strays == []
    codes = [cls.code for cls in classes.values() if issubclass(cls, XinfangError)]
    assert all(code.startswith("XF-") for code in codes)
    assert len(codes) == len(set(codes)), "every error class has its own stable code"


def test_the_domain_carries_no_http_status() -> None:
    for module in (errors, rule_errors, lifecycle_errors, acts, input_errors):
        for cls in vars(module).values():
            if inspect.isclass(cls) and issubclass(cls, XinfangError):
                assert "http_status" not in vars(cls), cls


# Every status the API answered before the statuses left the domain (http_status attributes).
BEFORE = {
    errors.DomainError: 409,
    errors.InvalidInput: 422,
    errors.CaseNotFound: 404,
    errors.UnknownDivision: 422,
    errors.UnknownBody: 422,
    errors.NotHolder: 403,
    errors.NotThisNode: 403,
    errors.NotPetitionOffice: 403,
    errors.IllegalTransition: 409,
    errors.RoutingNotAllowed: 409,
    errors.DependencyMissing: 409,
    rule_errors.CalendarMissing: 503,
    rule_errors.ExtensionTooLong: 422,
    rule_errors.DeadlineMovesBackwards: 422,
    rule_errors.NoHigherLevel: 422,
    rule_errors.RulesInvalid: 500,
    lifecycle_errors.NotIssuer: 403,
    lifecycle_errors.TooManyRepresentatives: 422,
    lifecycle_errors.WrongReviewer: 403,
    lifecycle_errors.AccusedUnitExcluded: 409,
    lifecycle_errors.WindowClosed: 409,
    acts.TimeInFuture: 422,
    acts.TimeBeforePredecessor: 422,
    acts.BackdateNeedsReason: 422,
    input_errors.BodyTooLarge: 413,
    input_errors.InvalidJson: 400,
    input_errors.JsonTooDeep: 400,
    input_errors.IdempotencyInterrupted: 409,
    input_errors.FieldTooLong: 422,
    input_errors.IdempotencyKeyReused: 422,
}


@pytest.mark.parametrize("cls", list(BEFORE), ids=lambda cls: cls.__name__)
def test_http_status_is_unchanged(cls: type[XinfangError]) -> None:
    assert http_status(cls("detail")) == BEFORE[cls]
