"""The commands a node accepts from people, whatever the transport (HTTP API, CLI, in-process
bus): the typed registry (registry.py: name → parser, decider, labels, rule, fields), the
parsers of JSON bodies into domain commands (inputs.py), the bounds on every input
(limits.py) and their refusals (input_errors.py). Below the API, above the domain.
"""

from .registry import BY_NAME, COMMANDS, CaseCommand, Fields

__all__ = ["BY_NAME", "COMMANDS", "CaseCommand", "Fields"]
