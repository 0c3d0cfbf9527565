"""The in-process bus of the application-layer unit tests (see xinfang.devtools.inprocess)."""

from xinfang.devtools.inprocess import InProcessBus as FakeBus

__all__ = ["FakeBus"]
