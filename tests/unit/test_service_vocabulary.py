"""Names of vocabulary members as the HTTP API shows them: looked up by member, not symbol."""

from __future__ import annotations

from pathlib import Path

from xinfang.domain.topology import Topology
from xinfang.domain.vocabulary import VOCABULARIES, CaseStatus, CloseReason, zh

from .fakes import FakeBus
from .test_service_obligations import Http


def test_a_case_diverted_to_the_political_legal_organ_reads_as_such(
    topology: Topology, tmp_path: Path
) -> None:
    """CaseStatus.DIVERTED and CloseReason.DIVERTED share a symbol; the status used to read
    as the close reason (已导入其他法定程序), as if the case had left the procedure."""
    bus = FakeBus(topology, ["150000", "150400", "150404"], tmp_path)
    try:
        http = Http(bus)
        case_id = http.register("150400", litigation_related=True)
        answer = http.run(
            "150400",
            case_id,
            "divert",
            {
                "actor": "150400.xfj",
                "route": "POLITICAL_LEGAL",
                "to_body": "150400.zfw",
                "guidance": "涉法涉诉事项，移交政法委依法处理",
            },
        )
        case = answer["case"]
        assert (case["status"], case["status_zh"]) == (
            "DIVERTED",
            "已移交政法、纪检监察机关依法处理",
        )
        at_province = http.call("150000", "GET", f"/api/cases/{case_id}")
        assert at_province["status_zh"] == "已移交政法、纪检监察机关依法处理"
    finally:
        bus.close()


def test_every_member_has_its_own_name() -> None:
    assert zh(CloseReason.DIVERTED) == "已导入其他法定程序"
    assert zh(CaseStatus.DIVERTED) != zh(CloseReason.DIVERTED)
    assert all(zh(member) for vocabulary in VOCABULARIES for member in vocabulary)
