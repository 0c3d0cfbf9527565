"""Raw baseline consumer, run as its own process: prints `<key> <wall time>` per record.

    python -m bench.raw_consumer BOOTSTRAP TOPIC GROUP

It prints `READY` once its partition is assigned, then one line per record received, and
exits when its standard input closes.
"""

from __future__ import annotations

import asyncio
import sys
import time

from aiokafka import AIOKafkaConsumer

from xinfang.kafka_security import aiokafka_security


async def consume(bootstrap: str, topic: str, group: str) -> None:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        **aiokafka_security(),
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=True,
    )
    await consumer.start()
    loop = asyncio.get_running_loop()
    stdin_closed = loop.run_in_executor(None, sys.stdin.read)
    try:
        while not consumer.assignment():
            await consumer.getmany(timeout_ms=100)
        print("READY", flush=True)
        while not stdin_closed.done():
            batches = await consumer.getmany(timeout_ms=200)
            now = time.time()
            for records in batches.values():
                for record in records:
                    print(f"{(record.key or b'').decode()} {now:.6f}", flush=True)
    finally:
        await consumer.stop()


def main() -> None:
    bootstrap, topic, group = sys.argv[1:4]
    asyncio.run(consume(bootstrap, topic, group))


if __name__ == "__main__":
    main()
