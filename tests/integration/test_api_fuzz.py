"""Property-based fuzzing of a real node's HTTP API from its served OpenAPI document
(issue 10 item 2): schemathesis generates bodies from the documented fields, types, formats and
bounds (and breaks them), against a node process on the real broker, so the web layer (uvicorn,
FastAPI, the middleware) is exercised too. No answer may be a 5xx, and every answer's status and
body are the ones the document declares (the response models of api/models.py). Bounded: in
`make test` a few examples per operation, every operation still called (decision 039);
`make fuzz` runs the long version (XINFANG_FUZZ_EXAMPLES, 100 examples per operation).
"""

from __future__ import annotations

import os
import re
import uuid
from collections import Counter
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from xinfang.commands.limits import IDEMPOTENCY_KEY_PATTERN
from xinfang.devtools.staff import route_of

from .conftest import NodeFactory

CITY = "150400"
# examples per operation: the explicit ones and then generated ones, positive and negative
# alike (decision 039: 8 in `make test`, ~30 operations in ~15 s; `make fuzz` sets 100)
EXAMPLES_PER_OPERATION = int(os.environ.get("XINFANG_FUZZ_EXAMPLES", "8"))
PETITION = {
    "title": "征地补偿款未足额发放",
    "channel": "ONLINE",
    "category": "APPEAL",
    "petitioner": {"name": "李四", "contact": "13700000000"},
    "request": "请求足额发放征地补偿款",
    "place": "150404",
}

pytestmark = pytest.mark.integration


@pytest.fixture
def fuzz_node(start_node: NodeFactory) -> dict[str, Any]:
    node = start_node(CITY)
    node.wait_ready()
    case_id = node.client.post("/api/cases", PETITION)["case_id"]
    return {"url": node.url, "case_id": case_id, "node": node}


def test_no_input_makes_a_node_answer_5xx(fuzz_node: dict[str, Any]) -> None:
    url, case_id = fuzz_node["url"], fuzz_node["case_id"]
    staff = fuzz_node["node"].staff
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25  # every route and command is documented
    called: Counter[str] = Counter()  # requests sent per operation
    modes: set[str] = set()  # the generation modes used (positive, negative)

    for operation in operations:
        has_case = "{case_id}" in operation.path
        fixed = {"case_id": case_id} if has_case else None  # a real case: the deciders run
        # Bodies that fit the document and bodies that break it (wrong types, values past
        # their bounds, missing fields).
        cases = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed),
            operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=fixed),
        )

        # as staff the route allows (devtools/staff.py), so requests reach the routes;
        # sign-out is asked without a credential so the other sessions stay
        method = operation.method.upper()
        signed: dict[str, str] = {}
        if route_of(method, operation.path) not in ("sign_in", "sign_out"):
            signed = staff.headers(*staff.who(method, operation.path, None))

        @given(case=cases, signed=st.just(signed))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def call(case: Any, signed: dict[str, str]) -> None:
            key = (case.headers or {}).get("Idempotency-Key")
            if key is not None and re.fullmatch(IDEMPOTENCY_KEY_PATTERN, key):
                # Generated keys repeat ("0"); a fresh one lets each request act. Malformed
                # keys stay: they are input too.
                case.headers["Idempotency-Key"] = uuid.uuid4().hex
            case.headers = {**(case.headers or {}), **signed}
            response = case.call(base_url=url, timeout=30)
            called[case.operation.label] += 1
            modes.add(case.meta.generation.mode.value if case.meta else "explicit")
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} → {response.status_code}: "
                f"{response.text[:300]}\n{fuzz_node['node'].tail_log()}"
            )
            # Every answer is one the document lists, in the shape its model declares.
            checks = [not_a_server_error, status_code_conformance, content_type_conformance]
            case.validate_response(response, checks=[*checks, response_schema_conformance])

        call()

    # however few the examples, every operation was called, with bodies that fit and that break
    assert set(called) == {operation.label for operation in operations}, called
    assert {"positive", "negative"} <= modes, modes
    print(f"\n{len(called)} operations, {sum(called.values())} requests, modes {sorted(modes)}")
