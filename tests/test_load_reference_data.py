import io
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from candidates.models import BusinessArea
from tenants.models import Membership, Organization
from tenants.reference import LOCAL_GOVERNMENTS_CSV

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("load_reference_data", *args, stdout=out)
    return out.getvalue()


def test_it_loads_the_exact_counts():
    counts = {kind: Organization.objects.filter(kind=kind).count() for kind in
              ["prefecture", "municipality", "secretariat", "association"]}
    assert counts == {"prefecture": 47, "municipality": 1741, "secretariat": 3, "association": 3}
    assert Organization.objects.filter(kind="ministry").count() >= 15
    # The 23 special wards of Tokyo, and no ward of a designated city.
    assert Organization.objects.filter(code__gte="131016", code__lt="131245", kind="municipality").count() == 23
    assert not Organization.objects.filter(code="011011").exists()  # 札幌市中央区
    assert BusinessArea.objects.count() == 20


@pytest.mark.parametrize(
    "code, name, kind, parent",
    [
        ("010006", "北海道", "prefecture", None),
        ("011002", "札幌市", "municipality", "010006"),
        ("131016", "千代田区", "municipality", "130001"),
        ("470007", "沖縄県", "prefecture", None),
    ],
)
def test_it_loads_known_codes(code, name, kind, parent):
    org = Organization.objects.select_related("parent").get(code=code)
    assert (org.name, org.kind) == (name, kind)
    assert (org.parent.code if org.parent else None) == parent


def test_kana_are_full_width_katakana():
    assert Organization.objects.get(code="011002").name_kana == "サッポロシ"
    assert Organization.objects.get(code="010006").name_kana == "ホッカイドウ"


def test_every_organization_has_its_own_group():
    org = Organization.objects.get(code="011002")
    assert org.group.name == "org:011002"
    assert Group.objects.filter(name__startswith="org:").count() == Organization.objects.count()


def test_the_business_areas_belong_to_their_ministries():
    owners = {area.name: area.owning_ministry.name for area in BusinessArea.objects.select_related("owning_ministry")}
    assert owners["住民基本台帳"] == "総務省"
    assert owners["戸籍"] == "法務省"
    assert owners["就学"] == "文部科学省"
    assert owners["介護保険"] == "厚生労働省"
    assert owners["児童手当"] == "こども家庭庁"


def test_a_second_run_changes_nothing_and_says_so():
    before = list(Organization.objects.order_by("pk").values())
    output = run()
    assert "nothing changed" in output
    assert "created 0, updated 0, unchanged 1741" in output
    assert list(Organization.objects.order_by("pk").values()) == before


def test_it_loads_from_an_empty_database():
    Membership.objects.all().delete()
    BusinessArea.objects.all().delete()
    Organization.objects.filter(kind="municipality").delete()
    Organization.objects.all().delete()
    Group.objects.filter(name__startswith="org:").delete()
    output = run()
    assert "created 1741" in output
    assert "created 47" in output
    assert Organization.objects.count() == 1741 + 47 + Organization.objects.filter(
        kind__in=["secretariat", "ministry", "association"]).count()


def test_it_brings_a_changed_row_back_in_line():
    Organization.objects.filter(code="011002").update(name="間違い市", name_en="")
    output = run()
    assert "updated 1" in output
    sapporo = Organization.objects.get(code="011002")
    assert sapporo.name == "札幌市"
    assert sapporo.name_en == "Sapporo City"


def write_copy(tmp_path: Path, replace: tuple[str, str]) -> Path:
    text = LOCAL_GOVERNMENTS_CSV.read_text(encoding="utf-8")
    assert replace[0] in text
    path = tmp_path / "local_governments.csv"
    path.write_text(text.replace(replace[0], replace[1], 1), encoding="utf-8")
    return path


def test_a_bad_check_digit_aborts_with_its_line_and_saves_nothing(tmp_path):
    path = write_copy(tmp_path, ("011002,municipality,札幌市", "011003,municipality,札幌市"))
    Organization.objects.filter(code="011002").update(name="間違い市")
    with pytest.raises(CommandError) as excinfo:
        run("--local-governments", str(path))
    message = str(excinfo.value)
    assert "nothing saved" in message
    assert "local_governments.csv:" in message and "011003" in message and "検査数字" in message
    assert "\n" not in message
    # The earlier rows of the same load were not written either.
    assert Organization.objects.get(code="011002").name == "間違い市"
    assert not Organization.objects.filter(code="011003").exists()


def test_an_unknown_kind_aborts_with_a_clear_reason(tmp_path):
    path = write_copy(tmp_path, ("011002,municipality,", "011002,city,"))
    with pytest.raises(CommandError, match=r"local_governments.csv:\d+: kind 'city'"):
        run("--local-governments", str(path))


def test_a_municipality_in_the_wrong_prefecture_is_refused(tmp_path):
    text = LOCAL_GOVERNMENTS_CSV.read_text(encoding="utf-8")
    line = next(row for row in text.splitlines() if row.startswith("011002,"))
    path = tmp_path / "local_governments.csv"
    path.write_text(text.replace(line, line.rsplit(",", 1)[0] + ",020001"), encoding="utf-8")
    with pytest.raises(CommandError, match="011002.*parent"):
        run("--local-governments", str(path))


def test_a_missing_file_is_a_one_line_error(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        run("--local-governments", str(tmp_path / "absent.csv"))
