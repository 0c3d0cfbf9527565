"""The node: application service, outbox relay, faust app and bootstrap."""
