"""The demo world of shared/API.md: one user per role, in the organizations clients rely on."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from tenants.models import Membership, Organization, Role


@dataclass(frozen=True)
class DemoUser:
    username: str
    organization_code: str
    role: str
    # Shown as the person's name; stored in last_name since Japanese names read family-name first.
    display_name: str
    is_staff: bool = False


DEMO_USERS = (
    DemoUser("secretariat", "digital", Role.SECRETARIAT_STAFF, "デジタル庁 事務局", is_staff=True),
    DemoUser("soumu", "soumu", Role.MINISTRY_OFFICER, "総務省 担当者"),
    DemoUser("mhlw", "mhlw", Role.MINISTRY_OFFICER, "厚生労働省 担当者"),
    DemoUser("cfa", "cfa", Role.MINISTRY_OFFICER, "こども家庭庁 担当者"),
    # Beyond the API contract's table: the owner of the disaster-victim registry demo candidate.
    DemoUser("cao", "cao", Role.MINISTRY_OFFICER, "内閣府 担当者"),
    DemoUser("chijikai", "chijikai", Role.ASSOCIATION_REPRESENTATIVE, "全国知事会 代表者"),
    DemoUser("shichokai", "shichokai", Role.ASSOCIATION_REPRESENTATIVE, "全国市長会 代表者"),
    DemoUser("chosonkai", "chosonkai", Role.ASSOCIATION_REPRESENTATIVE, "全国町村会 代表者"),
    DemoUser("hokkaido", "010006", Role.LOCAL_OFFICIAL, "北海道 職員"),
    DemoUser("sapporo", "011002", Role.LOCAL_OFFICIAL, "札幌市 職員"),
)


class DemoError(Exception):
    pass


def load_demo(password: str) -> tuple[int, int]:
    """Create or bring up to date the demo users; returns (created, updated)."""
    User = get_user_model()
    codes = {demo.organization_code for demo in DEMO_USERS}
    organizations = {org.code: org for org in Organization.objects.filter(code__in=codes)}
    missing = sorted(codes - organizations.keys())
    if missing:
        raise DemoError(f"organizations {', '.join(missing)} are missing: run load_reference_data first")

    created = updated = 0
    with transaction.atomic():
        for demo in DEMO_USERS:
            user, is_new = User.objects.get_or_create(username=demo.username)
            changed = is_new
            wanted = {
                "first_name": "",
                "last_name": demo.display_name,
                "is_staff": demo.is_staff,
                "is_active": True,
                "email": f"{demo.username}@example.jp",
            }
            for name, value in wanted.items():
                if getattr(user, name) != value:
                    setattr(user, name, value)
                    changed = True
            if is_new or not user.check_password(password):
                user.set_password(password)
                changed = True
            if changed:
                user.save()
            organization = organizations[demo.organization_code]
            membership = Membership.objects.filter(user=user, organization=organization).first()
            if membership is None:
                Membership(user=user, organization=organization, role=demo.role).save()
                changed = True
            elif membership.role != demo.role:
                membership.role = demo.role
                membership.save()
                changed = True
            created += is_new
            updated += changed and not is_new
    return created, updated
