"""The pause between attempts against an absent broker (relay and inbox consumer)."""

from __future__ import annotations

import asyncio

from xinfang.node.retry import Backoff, stop_quietly


def test_backoff_doubles_up_to_its_cap_and_starts_over_after_a_success() -> None:
    backoff = Backoff(first_s=0.001, cap_s=0.004)
    seen = []
    for _ in range(4):
        seen.append(backoff.delay_s)
        asyncio.run(backoff.pause())
    assert seen == [0.001, 0.002, 0.004, 0.004]
    backoff.reset()
    assert backoff.delay_s == 0.001


def test_a_client_that_fails_to_stop_does_not_stop_the_caller() -> None:
    class Broken:
        stopped = False

        async def stop(self) -> None:
            Broken.stopped = True
            raise ConnectionError("already gone")

    asyncio.run(stop_quietly(Broken(), "consumer"))
    asyncio.run(stop_quietly(None, "producer"))
    assert Broken.stopped
