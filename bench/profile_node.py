"""Where a node's time goes: the throughput run, with the node in this process under pyinstrument.

    python -m bench.profile_node --bootstrap HOST:PORT [--cases 1000] [--out profile.txt]

Not part of `make bench` (pyinstrument is not a project dependency: `pip install pyinstrument`).
It pre-loads the city node's inbox like bench.throughput, runs `build_node(...)`'s faust app in
this process's event loop and profiles the whole thread (event loop included) until the node
has applied and published every record.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path

from xinfang.devtools.broker import free_port
from xinfang.node.app import build_node
from xinfang.settings import NodeSettings

from .common import say, working_directory
from .throughput import CITY, preload


async def profile(bootstrap: str, cases: int, workdir: Path, out: Path) -> None:
    from pyinstrument import Profiler

    prefix = f"prof{uuid.uuid4().hex[:6]}."
    events = 2 * cases
    await preload(bootstrap, prefix, cases, workdir / "keys")  # the county's key published
    node = build_node(
        NodeSettings(
            division=CITY,
            bootstrap_servers=bootstrap,
            topic_prefix=prefix,
            data_dir=workdir / CITY,
            http_port=free_port(),
            public_keys_dir=workdir / "keys",
            publish_key=True,  # its X25519 key too: the others wrap case keys for it
        )
    )
    await node.provision()
    profiler = Profiler(interval=0.0005, async_mode="disabled")
    profiler.start()
    began = time.monotonic()
    await node.app.start()
    try:
        while True:
            stats = node.service.store.stats()
            if stats["inbox"] >= events and stats["outbox_pending"] == 0:
                break
            if time.monotonic() - began > 60 + events / 5:
                raise TimeoutError(f"node processed {stats} of {events}")
            await asyncio.sleep(0.25)
    finally:
        elapsed = time.monotonic() - began
        profiler.stop()
        await node.app.stop()
    out.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
    say(
        f"{events} 条事件用时 {elapsed:.1f} 秒（含启动），剖析结果写入 {out}",
        f"{events} events in {elapsed:.1f}s (start-up included); profile written to {out}",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=Path("profile-node.txt"))
    args = parser.parse_args()
    out = args.out.resolve()
    with (
        tempfile.TemporaryDirectory(prefix="xinfang-profile-") as tmp,
        working_directory(Path(tmp)),
    ):
        asyncio.run(profile(args.bootstrap, args.cases, Path(tmp), out))


if __name__ == "__main__":
    main()
