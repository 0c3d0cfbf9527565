"""上一级 for 复查/复核 (domain/hierarchy.py), Arts. 35–36, rules R7–R10."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from xinfang.domain.errors import InvalidInput, UnknownBody
from xinfang.domain.hierarchy import ReviewHierarchy
from xinfang.domain.rule_errors import NoHigherLevel
from xinfang.domain.topology import BodyKind, Level, Topology
from xinfang.rules_file import default_rules_dir, load_review_hierarchy

COUNTIES = (
    "150402", "150403", "150404", "150421", "150422", "150423",
    "150424", "150425", "150426", "150428", "150429", "150430",
)  # fmt: skip


def sparse_topology() -> Topology:
    """A city without a 住建局: county 住建局 decisions fall back to the county government."""
    return Topology.from_mapping(
        {
            "name": "sparse",
            "body_templates": [
                {"suffix": "xfj", "kind": "petition_office", "name": "信访局", "line": "xf"},
                {"suffix": "zf", "kind": "government", "name": "人民政府", "line": "zf"},
                {"suffix": "zj", "kind": "department", "name": "住建局", "line": "zj"},
            ],
            "divisions": [
                {"code": "150000", "name": "内蒙古自治区", "level": "province"},
                {
                    "code": "150400",
                    "name": "赤峰市",
                    "level": "city",
                    "parent": "150000",
                    "bodies": [
                        {
                            "suffix": "xfj",
                            "kind": "petition_office",
                            "name": "信访局",
                            "line": "xf",
                        },
                        {"suffix": "zf", "kind": "government", "name": "人民政府", "line": "zf"},
                    ],
                },
                {"code": "150404", "name": "松山区", "level": "county", "parent": "150400"},
            ],
        }
    )


# -- same line preferred (default) ---------------------------------------------------------
@pytest.mark.rule("R8")
def test_R8_county_department_reviewed_by_city_department_of_same_line(topology: Topology) -> None:
    assert ReviewHierarchy(topology).reviewer("150404.zj").id == "150400.zj"


@pytest.mark.rule("R8")
def test_R8_county_government_reviewed_by_city_government(topology: Topology) -> None:
    assert ReviewHierarchy(topology).reviewer("150404.zf").id == "150400.zf"
    assert ReviewHierarchy(topology, prefer="government").reviewer("150404.zf").id == "150400.zf"


@pytest.mark.rule("R10")
def test_R10_city_department_re_reviewed_by_province_department(topology: Topology) -> None:
    assert ReviewHierarchy(topology).reviewer("150400.zrzy").id == "150000.zrzy"


@pytest.mark.rule("R10")
def test_R10_province_department_reviewed_by_province_government(topology: Topology) -> None:
    reviewer = ReviewHierarchy(topology).reviewer("150000.rs")
    assert reviewer.id == "150000.zf"
    assert reviewer.kind is BodyKind.GOVERNMENT


@pytest.mark.rule("R10")
def test_R10_province_government_has_no_higher_level(topology: Topology) -> None:
    with pytest.raises(NoHigherLevel) as info:
        ReviewHierarchy(topology).reviewer("150000.zf")
    err = info.value
    assert err.code == "XF-NO-HIGHER-LEVEL"
    assert "上一级" in err.message("zh") and "level above" in err.message("en")
    assert err.context["body"] == "150000.zf"


@pytest.mark.rule("R8")
@pytest.mark.rule("R10")
def test_R8_R10_review_chain_of_a_county_department(topology: Topology) -> None:
    review, re_review = ReviewHierarchy(topology).review_chain("150404.zj")
    assert (review.id, re_review.id) == ("150400.zj", "150000.zj")


# -- government preferred --------------------------------------------------------------------
@pytest.mark.rule("R8")
def test_R8_prefer_government_sends_county_department_to_county_government(
    topology: Topology,
) -> None:
    hierarchy = ReviewHierarchy(topology, prefer="government")
    assert hierarchy.reviewer("150404.zj").id == "150404.zf"
    assert hierarchy.reviewer("150400.zj").id == "150400.zf"
    review, re_review = hierarchy.review_chain("150404.rs")
    assert (review.id, re_review.id) == ("150404.zf", "150400.zf")


@pytest.mark.rule("R8")
def test_R8_without_same_line_above_falls_back_to_own_government() -> None:
    sparse = sparse_topology()
    assert ReviewHierarchy(sparse).reviewer("150404.zj").id == "150404.zf"
    # and the other way round: prefer government, but no government → same line
    no_gov = Topology.from_mapping(
        {
            "divisions": [
                {
                    "code": "150400",
                    "name": "赤峰市",
                    "level": "city",
                    "bodies": [{"suffix": "zj", "kind": "department", "name": "住建局"}],
                },
                {
                    "code": "150404",
                    "name": "松山区",
                    "level": "county",
                    "parent": "150400",
                    "bodies": [{"suffix": "zj", "kind": "department", "name": "住建局"}],
                },
            ]
        }
    )
    assert ReviewHierarchy(no_gov, prefer="government").reviewer("150404.zj").id == "150400.zj"
    with pytest.raises(NoHigherLevel):
        ReviewHierarchy(no_gov).reviewer("150400.zj")


def test_party_organs_are_reviewed_only_within_their_line(topology: Topology) -> None:
    hierarchy = ReviewHierarchy(topology, prefer="government")
    assert hierarchy.reviewer("150404.jw").id == "150400.jw"
    assert hierarchy.reviewer("150400.zfw").id == "150000.zfw"
    with pytest.raises(NoHigherLevel):
        hierarchy.reviewer("150000.jw")


@pytest.mark.parametrize("prefer", ["same_line", "government"])
@pytest.mark.parametrize("county", COUNTIES)
def test_every_county_body_has_a_reviewer_one_level_up_or_its_government(
    topology: Topology, county: str, prefer: str
) -> None:
    hierarchy = ReviewHierarchy(topology, prefer=prefer)  # type: ignore[arg-type]
    for body in topology.division(county).bodies:
        reviewer = hierarchy.reviewer(body.id)
        level = topology.division(reviewer.division).level
        assert reviewer.id != body.id
        assert level is Level.CITY or reviewer.id == f"{county}.zf"
        review, re_review = hierarchy.review_chain(body.id)
        assert re_review.id != review.id


# -- overrides from data ------------------------------------------------------------------------
@pytest.mark.rule("R8")
def test_R8_explicit_override_wins(topology: Topology) -> None:
    hierarchy = ReviewHierarchy(topology, overrides={"150404.zj": "150404.zf"})
    assert hierarchy.reviewer("150404.zj").id == "150404.zf"
    assert hierarchy.reviewer("150403.zj").id == "150400.zj"  # others unaffected


def test_override_to_unknown_body_is_refused(topology: Topology) -> None:
    with pytest.raises(UnknownBody):
        ReviewHierarchy(topology, overrides={"150404.zj": "150400.nope"})
    with pytest.raises(UnknownBody):
        ReviewHierarchy(topology, overrides={"999999.zj": "150400.zj"})


def test_override_to_itself_is_refused(topology: Topology) -> None:
    with pytest.raises(InvalidInput):
        ReviewHierarchy(topology, overrides={"150404.zj": "150404.zj"})


def test_unknown_prefer_option_is_refused(topology: Topology) -> None:
    with pytest.raises(InvalidInput):
        ReviewHierarchy(topology, prefer="upwards")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        ReviewHierarchy.from_mapping(topology, {"prefer": "upwards"})


def test_from_mapping_refuses_unknown_keys_naming_them(topology: Topology) -> None:
    with pytest.raises(InvalidInput) as info:
        ReviewHierarchy.from_mapping(topology, {"prefer": "same_line", "overide": {}})
    assert "overide" in info.value.message("zh")


def test_unknown_body_under_review(topology: Topology) -> None:
    with pytest.raises(UnknownBody):
        ReviewHierarchy(topology).reviewer("150404.nope")


def test_nei_mongol_province_file_configures_same_line(topology: Topology) -> None:
    hierarchy = load_review_hierarchy(topology, "150404")
    assert hierarchy.prefer == "same_line"
    assert hierarchy.reviewer("150404.zj").id == "150400.zj"


def test_province_file_overrides_are_applied(topology: Topology, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules)
    (rules / "provinces" / "15.yaml").write_text(
        "jurisdiction: '15'\nreview:\n  prefer: government\n"
        "  overrides: {'150404.zj': '150400.zj'}\n",
        encoding="utf-8",
    )
    hierarchy = load_review_hierarchy(topology, "15", rules)
    assert hierarchy.reviewer("150404.zj").id == "150400.zj"  # override
    assert hierarchy.reviewer("150403.zj").id == "150403.zf"  # prefer government
