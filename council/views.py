from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import render

from tenants.access import access_for
from tenants.models import Membership, Organization


@login_required
def home(request):
    counts = dict(Organization.objects.values_list("kind").annotate(n=Count("pk")).order_by())
    memberships = Membership.objects.filter(user=request.user).select_related("organization")
    return render(
        request,
        "home.html",
        {
            "counts": counts,
            "memberships": memberships,
            "is_secretariat": access_for(request.user).is_secretariat,
        },
    )
