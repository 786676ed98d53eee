"""`manage.py generate_national_data`: deterministic, keeps the models' invariants, refuses
a database that already has a pipeline, and answers bad input with one line."""

import io
from collections import Counter
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import transaction

from candidates.models import Candidate, FeasibilityStudy, StudyStatus
from council.national_data import USERNAME_PREFIX, Plan, fingerprint, generate
from policies.integrity import first_broken_link
from policies.models import ConsentRound, Policy, PolicyStatus, PolicyVersion
from progress.models import Adoption, AdoptionChange, AdoptionStatus, ProgressReport
from tenants.access import access_for
from tenants.models import Organization

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 11, 28)
LOCAL_GOVERNMENTS = 1788


def tiny(seed: int = 7, policies: int = 1) -> Plan:
    return Plan.for_scale(1, seed=seed, as_of=AS_OF, policies=policies, changes_per_adoption=2)


def generated_fingerprint(plan: Plan) -> str:
    """Generate inside a savepoint, read the fingerprint, and roll the data back."""
    savepoint = transaction.savepoint()
    try:
        generate(plan)
        return fingerprint()
    finally:
        transaction.savepoint_rollback(savepoint)


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data():
    first = generated_fingerprint(tiny(seed=7))
    assert not Candidate.objects.exists()  # rolled back
    assert generated_fingerprint(tiny(seed=7)) == first
    assert generated_fingerprint(tiny(seed=8)) != first


def test_it_keeps_the_models_invariants():
    plan = tiny(policies=3)
    summary = generate(plan)

    # The plan's counts.
    assert Candidate.objects.count() == plan.candidates
    assert FeasibilityStudy.objects.count() == plan.studies
    assert Policy.objects.filter(status=PolicyStatus.CONSENTED).count() == plan.policies
    assert summary.counts["progress.Adoption"] == plan.policies * LOCAL_GOVERNMENTS

    # Frozen versions carry the hash of their content; drafts none.
    for version in PolicyVersion.objects.all():
        if version.submitted_at is None:
            assert version.content_hash == ""
        else:
            assert version.content_hash == version.compute_hash()

    # Every consent round's hash chain verifies, as the command checks it.
    assert ConsentRound.objects.exists()
    for round_ in ConsentRound.objects.select_related("version"):
        assert first_broken_link(round_) is None
    out = io.StringIO()
    call_command("verify_consent_records", stdout=out)
    assert "intact" in out.getvalue()

    # A consented policy: selected candidate with an accepted study, 20 quarterly reports,
    # one adoption row per local government whose status is its history's last change.
    for policy in Policy.objects.filter(status=PolicyStatus.CONSENTED).select_related("candidate"):
        assert policy.candidate.status == "selected"
        assert policy.candidate.study.status == StudyStatus.ACCEPTED
        assert ProgressReport.objects.filter(policy=policy).count() == 20
        assert Adoption.objects.filter(policy=policy).count() == LOCAL_GOVERNMENTS
    last_change = {}
    for adoption_id, to_status in AdoptionChange.objects.order_by("changed_at", "pk").values_list("adoption_id", "to_status"):
        last_change[adoption_id] = to_status
    for pk, status, year in Adoption.objects.values_list("pk", "status", "target_fiscal_year"):
        assert status == last_change.get(pk, AdoptionStatus.NOT_PLANNED)
        assert (year is not None) == (status == AdoptionStatus.PLANNED)

    # Generated users hold a membership and its groups, so the access rules see them.
    users = get_user_model().objects.filter(username__startswith=USERNAME_PREFIX)
    assert users.count() == plan.users
    kinds = Counter(users.values_list("memberships__organization__kind", flat=True))
    assert set(kinds) >= {"secretariat", "ministry", "association", "municipality"}
    officer = users.filter(memberships__role="ministry_officer").first()
    ministry = Organization.objects.get(pk=next(iter(access_for(officer).ministry_ids)))
    assert officer.groups.filter(pk=ministry.group_id).exists()
    own = Policy.objects.filter(ministry=ministry).first()
    if own is not None:
        assert officer.has_perm("policies.change_policy", own)

    # The ids continue after the generated ones (the sequences were moved on).
    assert Policy.objects.visible_to(get_user_model().objects.get(username="secretariat")).count() == Policy.objects.count()


def test_it_refuses_a_database_that_already_has_a_pipeline(user):
    from candidates import actions

    actions.propose_candidate(user("secretariat"), title="既存の候補", description="既存",
                              owning_ministry=Organization.objects.get(code="soumu"))
    with pytest.raises(CommandError, match="already has 1 candidates.*fresh database"):
        call_command("generate_national_data", "--policies", "1", stdout=io.StringIO())
    assert Policy.objects.count() == 0
    assert not get_user_model().objects.filter(username__startswith=USERNAME_PREFIX).exists()


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--scale", "0"], "--scale must be greater than 0"),
        (["--policies", "0"], "--policies must be at least 1"),
        (["--as-of", "yesterday"], "is not a date"),
        (["--changes-per-adoption", "50"], "between 1 and 20"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(arguments, message):
    with pytest.raises(CommandError, match=message) as error:
        call_command("generate_national_data", *arguments, stdout=io.StringIO())
    assert "\n" not in str(error.value)
    assert not Candidate.objects.exists()
