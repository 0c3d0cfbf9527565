"""Running brokers and node processes for the demo, tests and benchmarks."""
