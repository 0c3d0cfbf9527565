"""The pure domain core: case state machine, commands, events, topology, errors.

Nothing in this package may import faust, aiokafka, SQLAlchemy or fastavro
(tests/unit/test_domain_purity.py enforces it): the domain decides, adapters do I/O.
"""
