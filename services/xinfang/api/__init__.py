"""HTTP API of a node: JSON in, domain commands out; refusals keep their domain codes."""
