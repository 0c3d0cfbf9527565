"""Avro wire format: schema catalogue, single-object encoding, CloudEvents headers."""
