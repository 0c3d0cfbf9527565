"""xinfang benchmark harness (issue 7): every figure measured beside a raw Kafka baseline.

`python -m bench.run [--quick] [--out docs/benchmarks.md]` starts its own broker, runs the
measurements in one go on this machine and rewrites the generated table of docs/benchmarks.md.
"""
