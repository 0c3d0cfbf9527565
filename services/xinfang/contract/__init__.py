"""The topic contract for integrators (docs/integrators.md, docs/asyncapi.yaml).

- `public_status`: the public status feed (no personal data) and its codec;
- `catalogue`: every writer schema, published to a compacted topic keyed by fingerprint;
- `history`: released schema versions under schemas/history/ (FULL_TRANSITIVE evolution);
- `avro_compat`: the evolution check with Apache Avro's own SchemaCompatibility (Java);
- `asyncapi`: the AsyncAPI 3.0 document, generated from schemas/ and the topology.
"""
