"""The feasibility-study pages (stage 2): list, detail, the ministry's edit/submit, decisions, files."""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from candidates import actions
from candidates.models import Candidate, FeasibilityStudy, StudyAttachment
from council import calendar

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
COMPLETE = {
    "findings": "全団体で同一の業務フローに整理できる。",
    "affected_local_governments": 1741,
    "cost_initial_yen": 4_800_000_000,
    "cost_annual_yen": 1_200_000_000,
    "expected_effect": "制度改正時の改修が不要になる。",
    "conclusion": "feasible",
}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def signed_in(client, demo_password):
    def login(username: str):
        client.logout()
        assert client.login(username=username, password=demo_password)
        return client

    return login


def url(name, *args):
    return reverse(f"candidates:{name}", args=args)


def due():
    return calendar.next_business_day(calendar.today() + timedelta(days=30))


@pytest.fixture
def assign(user, org):
    """A selected candidate of `ministry` with its study assigned by the secretariat."""

    def make(ministry="soumu", title="公金受取口座の登録支援"):
        candidate = actions.propose_candidate(
            user("secretariat"), title=title, description="概要", owning_ministry=org(ministry)
        )
        Candidate.objects.filter(pk=candidate.pk).update(status="selected", track="commonization")
        candidate.refresh_from_db()
        study, _moved = actions.assign_study(candidate, user("secretariat"), due_date=due())
        return study

    return make


@pytest.fixture
def study(assign):
    return assign()


def put_in(study, status, **fields):
    """Force a starting status (and fields) for a test, bypassing the workflow on purpose."""
    FeasibilityStudy.objects.filter(pk=study.pk).update(status=status, **fields)
    study.refresh_from_db()
    return study


def pdf(name="調査報告.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def form_data(**overrides):
    data = {name: "" for name in FeasibilityStudy.MINISTRY_FIELDS}
    return {**data, **{k: str(v) for k, v in COMPLETE.items()}, **overrides}


# --- Who reaches which page -------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login_page(client, study):
    for path in (url("study-list"), url("study-detail", study.pk), url("study-edit", study.pk)):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.post(url("study-transition", study.pk), {"to": "submitted"}).status_code == 302


@pytest.mark.parametrize(
    "username, detail, edit",
    [
        ("secretariat", 200, 403),  # sees everything, writes nothing of the ministry's
        ("soumu", 200, 200),  # the owning ministry
        ("mhlw", 404, 404),  # another ministry's draft does not exist for it
        ("chijikai", 404, 404),  # not accepted yet
        ("sapporo", 404, 404),
    ],
)
def test_an_assigned_study_by_role(signed_in, study, username, detail, edit):
    client = signed_in(username)
    assert client.get(url("study-detail", study.pk)).status_code == detail
    assert client.get(url("study-edit", study.pk)).status_code == edit


@pytest.mark.parametrize(
    "username, detail, edit",
    [
        ("secretariat", 200, 403),
        ("soumu", 200, 403),  # its own, but accepted: no more changes
        ("mhlw", 200, 403),
        ("chijikai", 200, 403),
        ("sapporo", 200, 403),
    ],
)
def test_an_accepted_study_by_role(signed_in, study, username, detail, edit):
    put_in(study, "accepted", **COMPLETE)
    client = signed_in(username)
    assert client.get(url("study-detail", study.pk)).status_code == detail
    assert client.get(url("study-edit", study.pk)).status_code == edit


def test_an_unknown_study_is_404(signed_in):
    assert signed_in("secretariat").get(url("study-detail", 999_999)).status_code == 404


# --- The list ---------------------------------------------------------------------------------------------------


def listed(response, studies):
    wanted = {s.pk for s in studies}
    return [s.pk for s in response.context["studies"] if s.pk in wanted]


@pytest.fixture
def three(assign):
    own = assign("soumu", "総務省の調査")
    other = assign("mhlw", "厚生労働省の調査")
    accepted = put_in(assign("cfa", "こども家庭庁の調査"), "accepted", **COMPLETE)
    return own, other, accepted


@pytest.mark.parametrize(
    "username, expected",
    [
        ("secretariat", {0, 1, 2}),
        ("soumu", {0, 2}),  # its own draft and what is accepted
        ("mhlw", {1, 2}),
        ("chijikai", {2}),
        ("sapporo", {2}),
    ],
)
def test_the_list_shows_what_each_role_may_see(signed_in, three, username, expected):
    response = signed_in(username).get(url("study-list"))
    assert response.status_code == 200
    assert set(listed(response, three)) == {three[i].pk for i in expected}


def test_the_list_shows_status_ministry_due_date_and_overdue(signed_in, three):
    own, _other, _accepted = three
    put_in(own, "assigned", due_date=calendar.today() - timedelta(days=1))
    response = signed_in("secretariat").get(url("study-list"))
    html = response.content.decode()
    row = html.split(f'href="{own.get_absolute_url()}"', 1)[1].split("</tr>", 1)[0]
    assert "総務省" in row and "依頼済み" in row and "期限超過" in row
    d = own.due_date
    assert f"{d.year}年{d.month}月{d.day}日" in row
    assert "実現可能" in html  # the accepted study's conclusion


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"status": "accepted"}, {2}),
        ({"status": "assigned"}, {0, 1}),
        ({"ministry": "mhlw"}, {1}),
        ({"overdue": "true"}, {0}),
        ({"overdue": "false"}, {1, 2}),
        ({"overdue": "unknown"}, {0, 1, 2}),
    ],
)
def test_the_list_filters(signed_in, three, org, query, expected):
    own = three[0]
    put_in(own, "assigned", due_date=calendar.today() - timedelta(days=1))
    if "ministry" in query:
        query = {"ministry": org(query["ministry"]).pk}
    response = signed_in("secretariat").get(url("study-list"), query)
    assert set(listed(response, three)) == {three[i].pk for i in expected}


def test_the_list_reads_in_constant_queries(signed_in, assign, django_assert_max_num_queries):
    client = signed_in("soumu")
    assign("soumu", "最初の調査")
    client.get(url("study-list"))
    with CaptureQueriesContext(connection) as few:
        client.get(url("study-list"))
    for i in range(15):
        assign("soumu", f"件数確認 {i}")
    with django_assert_max_num_queries(len(few)):
        response = client.get(url("study-list"))
    assert len(response.context["studies"]) >= 16


# --- The detail ----------------------------------------------------------------------------------------------------


def test_the_ministry_sees_its_draft_with_an_edit_link_and_a_submit_button(signed_in, study):
    html = signed_in("soumu").get(url("study-detail", study.pk)).content.decode()
    assert f'href="{url("study-edit", study.pk)}"' in html
    assert 'name="to" value="submitted"' in html
    assert 'name="to" value="accepted"' not in html


def test_the_secretariat_decides_a_submitted_study(signed_in, study):
    put_in(study, "submitted", **COMPLETE)
    html = signed_in("secretariat").get(url("study-detail", study.pk)).content.decode()
    assert 'name="to" value="accepted"' in html and 'name="to" value="returned"' in html
    assert 'name="to" value="submitted"' not in html
    assert f'href="{url("study-edit", study.pk)}"' not in html


def test_a_council_member_sees_the_details_of_an_accepted_study(signed_in, study):
    put_in(study, "accepted", **COMPLETE)
    StudyAttachment.objects.create(study=study, file=pdf(), original_name="調査報告.pdf", content_type="application/pdf",
                                   size=len(PDF), uploaded_by=study.assigned_by)
    html = signed_in("chijikai").get(url("study-detail", study.pk)).content.decode()
    assert "全団体で同一の業務フローに整理できる。" in html
    assert "4,800,000,000円" in html and "1,741団体" in html
    assert "調査報告.pdf" in html
    assert 'name="to"' not in html


def test_a_local_official_sees_only_the_conclusion(signed_in, study):
    put_in(study, "accepted", **COMPLETE, risks="リスクの記載")
    StudyAttachment.objects.create(study=study, file=pdf(), original_name="調査報告.pdf", content_type="application/pdf",
                                   size=len(PDF), uploaded_by=study.assigned_by)
    client = signed_in("sapporo")
    html = client.get(url("study-detail", study.pk)).content.decode()
    assert "実現可能" in html
    for detail in ("全団体で同一の業務フローに整理できる。", "4,800,000,000", "リスクの記載", "調査報告.pdf", "履歴"):
        assert detail not in html
    # …and on the candidate page, the study summary is the conclusion only.
    html = client.get(study.candidate.get_absolute_url()).content.decode()
    summary = html.split('id="study-heading"', 1)[1].split("</section>", 1)[0]
    assert "実現可能" in summary and "提出期限" not in summary and "総務省" not in summary


def test_the_candidate_page_summarizes_the_study_for_the_council(signed_in, study):
    put_in(study, "assigned", due_date=calendar.today() - timedelta(days=2))
    html = signed_in("secretariat").get(study.candidate.get_absolute_url()).content.decode()
    summary = html.split('id="study-heading"', 1)[1].split("</section>", 1)[0]
    assert "依頼済み" in summary and "提出期限超過" in summary and "総務省" in summary
    assert f'href="{study.get_absolute_url()}"' in summary


# --- The ministry edits and submits ------------------------------------------------------------------------------------


def test_the_edit_form_covers_exactly_the_ministry_fields():
    from candidates.forms import StudyForm

    assert set(StudyForm.Meta.fields) == set(FeasibilityStudy.MINISTRY_FIELDS)


def test_the_edit_page_has_two_submit_buttons_and_file_upload(signed_in, study):
    html = signed_in("soumu").get(url("study-edit", study.pk)).content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert 'name="intent" value="save"' in html and "下書き保存" in html
    assert 'name="intent" value="submit"' in html and "提出" in html
    assert re.search(r'type="file" name="attachments"[^>]*multiple', html)


def test_saving_a_draft_keeps_it_assigned(signed_in, study):
    response = signed_in("soumu").post(
        url("study-edit", study.pk),
        form_data(intent="save", findings="途中まで", conclusion="", attachments=[pdf("a.pdf"), pdf("b.pdf")]),
        follow=True,
    )
    assert response.redirect_chain[-1][0] == url("study-edit", study.pk)
    assert "下書きを保存しました。" in response.content.decode()
    study.refresh_from_db()
    assert (study.status, study.findings, study.conclusion) == ("assigned", "途中まで", "")
    assert sorted(a.original_name for a in study.attachments.all()) == ["a.pdf", "b.pdf"]


def test_submitting_a_complete_study(signed_in, study):
    response = signed_in("soumu").post(url("study-edit", study.pk), form_data(intent="submit"), follow=True)
    assert response.redirect_chain[-1][0] == study.get_absolute_url()
    assert "実現可能性調査を提出しました。" in response.content.decode()
    study.refresh_from_db()
    assert (study.status, study.cost_initial_yen) == ("submitted", 4_800_000_000)
    assert study.submitted_at is not None


def test_submitting_with_missing_fields_shows_them_and_keeps_the_draft(signed_in, study):
    response = signed_in("soumu").post(
        url("study-edit", study.pk),
        form_data(intent="submit", findings="下書きの所見", cost_annual_yen="", expected_effect=""),
    )
    html = response.content.decode()
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"cost_annual_yen", "expected_effect"}
    assert 'id="id_cost_annual_yen_error"' in html and "提出するにはこの項目を入力してください。" in html
    assert "下書きを保存しました。提出するには" in html
    study.refresh_from_db()
    assert (study.status, study.findings, study.cost_annual_yen) == ("assigned", "下書きの所見", None)


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"findings": "あ" * 20_001}, "findings"),
        ({"expected_effect": "あ" * 10_001}, "expected_effect"),
        ({"affected_local_governments": "1789"}, "affected_local_governments"),
        ({"cost_initial_yen": "-1"}, "cost_initial_yen"),
        ({"cost_annual_yen": "一億"}, "cost_annual_yen"),
        ({"conclusion": "maybe"}, "conclusion"),
        ({"attachments": [SimpleUploadedFile("setup.pdf", b"MZ\x90\x00\x03 executable")]}, "attachments"),
        ({"attachments": [SimpleUploadedFile("表.xlsx", PDF)]}, "attachments"),
        ({"attachments": [pdf("ok.pdf"), SimpleUploadedFile("big.pdf", PDF + b"\x00" * (20 * 1024 * 1024))]}, "attachments"),
    ],
)
@pytest.mark.parametrize("intent", ["save", "submit"])
def test_bad_input_shows_the_error_next_to_the_field_and_saves_nothing(signed_in, study, overrides, field, intent):
    response = signed_in("soumu").post(url("study-edit", study.pk), form_data(intent=intent, **overrides))
    html = response.content.decode()
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert f'id="id_{field}_error"' in html
    assert re.search(f'aria-describedby="[^"]*id_{field}_error', html)
    study.refresh_from_db()
    assert (study.status, study.findings, study.cost_initial_yen) == ("assigned", "", None)
    assert not study.attachments.exists()


def test_a_returned_study_is_edited_and_resubmitted(signed_in, study):
    put_in(study, "returned", **COMPLETE)
    client = signed_in("soumu")
    assert client.get(url("study-edit", study.pk)).status_code == 200
    client.post(url("study-edit", study.pk), form_data(intent="submit", findings="指摘を受けて改めた所見"))
    study.refresh_from_db()
    assert (study.status, study.findings) == ("submitted", "指摘を受けて改めた所見")


def test_a_submitted_study_is_no_longer_editable(signed_in, study):
    put_in(study, "submitted", **COMPLETE)
    response = signed_in("soumu").post(url("study-edit", study.pk), form_data(intent="save", findings="変更"))
    assert response.status_code == 403
    assert FeasibilityStudy.objects.get(pk=study.pk).findings == COMPLETE["findings"]


def test_another_ministry_cannot_post_to_a_draft(signed_in, study):
    assert signed_in("mhlw").post(url("study-edit", study.pk), form_data(intent="save")).status_code == 404
    assert FeasibilityStudy.objects.get(pk=study.pk).findings == ""


# --- Decisions on the detail page --------------------------------------------------------------------------------------


def test_the_secretariat_accepts(signed_in, study):
    put_in(study, "submitted", **COMPLETE)
    response = signed_in("secretariat").post(url("study-transition", study.pk), {"to": "accepted", "comment": ""}, follow=True)
    assert "「受理」にしました" in response.content.decode()
    study.refresh_from_db()
    assert study.status == "accepted" and study.decided_at is not None


def test_returning_needs_a_comment_next_to_the_comment_field(signed_in, study):
    put_in(study, "submitted", **COMPLETE)
    client = signed_in("secretariat")
    response = client.post(url("study-transition", study.pk), {"to": "returned", "comment": "  "})
    html = response.content.decode()
    assert response.status_code == 200
    assert "comment" in response.context["transition_form"].errors
    assert 'id="id_comment_error"' in html and "差し戻す理由をコメントに入力してください。" in html
    assert FeasibilityStudy.objects.get(pk=study.pk).status == "submitted"
    client.post(url("study-transition", study.pk), {"to": "returned", "comment": "費用の根拠を補足してください。"})
    study.refresh_from_db()
    assert study.status == "returned"
    assert study.history().last().comment == "費用の根拠を補足してください。"


def test_submitting_from_the_detail_page_lists_the_missing_fields(signed_in, study):
    response = signed_in("soumu").post(url("study-transition", study.pk), {"to": "submitted"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "調査結果：提出するにはこの項目を入力してください。" in html
    assert FeasibilityStudy.objects.get(pk=study.pk).status == "assigned"


def test_a_move_the_workflow_refuses_is_409(signed_in, study):
    response = signed_in("secretariat").post(url("study-transition", study.pk), {"to": "accepted"})
    assert response.status_code == 409
    assert "「依頼済み」から「受理」へは変更できません。" in response.content.decode()
    assert FeasibilityStudy.objects.get(pk=study.pk).status == "assigned"


@pytest.mark.parametrize("username, to, status", [("soumu", "accepted", 403), ("secretariat", "submitted", 403), ("mhlw", "accepted", 404)])
def test_refused_moves(signed_in, study, username, to, status):
    put_in(study, "submitted", **COMPLETE)
    assert signed_in(username).post(url("study-transition", study.pk), {"to": to}).status_code == status
    assert FeasibilityStudy.objects.get(pk=study.pk).status == "submitted"


# --- Attachment downloads -------------------------------------------------------------------------------------------------


@pytest.fixture
def attachment(study):
    return StudyAttachment.objects.create(
        study=study, file=pdf(), original_name="調査報告.pdf", content_type="application/pdf",
        size=len(PDF), uploaded_by=study.assigned_by,
    )


def test_the_ministry_downloads_its_attachment(signed_in, attachment):
    response = signed_in("soumu").get(url("attachment-download", attachment.pk))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        "attachment; filename=\"download.pdf\"; filename*=UTF-8''%E8%AA%BF%E6%9F%BB%E5%A0%B1%E5%91%8A.pdf")
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "username, draft, accepted",
    [
        ("secretariat", 200, 200),
        ("soumu", 200, 200),
        ("mhlw", 404, 200),
        ("chijikai", 404, 200),
        ("sapporo", 404, 404),  # sees the accepted study's conclusion, never its files
    ],
)
def test_attachments_follow_the_study_visibility(signed_in, attachment, username, draft, accepted):
    client = signed_in(username)
    assert client.get(url("attachment-download", attachment.pk)).status_code == draft
    put_in(attachment.study, "accepted", **COMPLETE)
    assert client.get(url("attachment-download", attachment.pk)).status_code == accepted


def test_anonymous_downloads_go_to_the_login_page(client, attachment):
    response = client.get(url("attachment-download", attachment.pk))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
