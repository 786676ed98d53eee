from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from council import calendar
from council.templatetags.council_tags import wareki_fiscal_year
from tenants.models import Organization, OrganizationKind

FIRST_FISCAL_YEAR = 2024  # the council's first year (令和6年度)


class DashboardFilterForm(forms.Form):
    """Filters of every dashboard table: a policy (among those the user may see), a ministry,
    a fiscal year. An invalid value is reported beside the field and that filter ignored."""

    policy = forms.TypedChoiceField(label=_("方針"), coerce=int, required=False, empty_value=None)
    ministry = forms.ModelChoiceField(
        label=_("府省庁"), queryset=Organization.objects.none(), required=False, empty_label=_("すべての府省庁")
    )
    fiscal_year = forms.TypedChoiceField(label=_("年度"), coerce=int, required=False, empty_value=None)

    def __init__(self, data, *, policies, **kwargs) -> None:
        super().__init__(data, **kwargs)
        self.fields["policy"].choices = [("", _("すべての方針"))] + [(p.pk, p.title) for p in policies]
        self.fields["ministry"].queryset = Organization.objects.filter(kind=OrganizationKind.MINISTRY).order_by("code")
        last = calendar.fiscal_year(calendar.today()) + 1
        self.fields["fiscal_year"].choices = [("", _("すべての年度"))] + [
            (year, wareki_fiscal_year(year)) for year in range(last, FIRST_FISCAL_YEAR - 1, -1)
        ]

    def value(self, name: str):
        """The valid value of a filter, or None."""
        if not self.is_bound:
            return None
        self.is_valid()
        return self.cleaned_data.get(name) if name not in self.errors else None
