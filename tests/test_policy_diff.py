from policies.diff import diff_bodies
from policies.sections import BODY_TEMPLATE, missing_sections, split_sections


def test_it_splits_a_body_into_its_sections():
    sections = split_sections("前文\n## 目的と範囲\n目的。\n\n## KPI\n- 利用率")
    assert [(s.title, s.text) for s in sections] == [("", "前文"), ("目的と範囲", "目的。"), ("KPI", "- 利用率")]


def test_the_template_lacks_every_sections_content():
    assert len(missing_sections(BODY_TEMPLATE)) == 5


def test_a_changed_japanese_line_is_diffed_by_character():
    old = "## 目的と範囲\n全国の市区町村で共通SaaSを利用する。"
    new = "## 目的と範囲\n全国の市町村で共通SaaSを早期に利用する。"
    [section] = diff_bodies(old, new)
    assert section.status == "changed"
    [line] = section.lines
    assert [(p.kind, p.text) for p in line] == [
        ("equal", "全国の市"), ("delete", "区"), ("equal", "町村で共通SaaSを"), ("insert", "早期に"), ("equal", "利用する。"),
    ]


def test_added_removed_and_unchanged_sections():
    old = "## 目的と範囲\n同じ\n## 旧節\n消える"
    new = "## 目的と範囲\n同じ\n## KPI\n新しい"
    statuses = {d.title: d.status for d in diff_bodies(old, new)}
    assert statuses == {"目的と範囲": "unchanged", "KPI": "added", "旧節": "removed"}
