"""REST dashboards: figures read from the pre-aggregated tables, with ETag / Last-Modified.

Every response's ETag is derived from the version stamps of the figures it reads, its query,
the language and whose visibility it reflects — so a client polling a dashboard gets a 304 until
the figures change. Aggregate counts (the summary) are council statistics every signed-in user
may read; adoption figures are limited to the policies the user may see; cost figures, which
come from feasibility studies' details, to council members (as the studies' details are).
"""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from council.api.compiled import CompiledRepresentation
from council.api.pagination import Pagination
from council.dashboards import queries
from council.dashboards.aggregates import ADOPTION, COST, SUMMARY, adoption_scope
from policies.models import Policy
from tenants.access import access_for
from tenants.models import Organization, OrganizationKind

# --- Query parameters ---------------------------------------------------------------------------


class DashboardFilterSerializer(CompiledRepresentation, serializers.Serializer):
    ministry = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.filter(kind=OrganizationKind.MINISTRY), required=False, allow_null=True,
        help_text="府省庁の id (an organization of kind ministry)",
    )
    # null in an answer: not filtered by it.
    fiscal_year = serializers.IntegerField(min_value=2000, max_value=2100, required=False, allow_null=True, help_text="年度 (FY2026 = 令和8年度)")
    policy = serializers.IntegerField(min_value=1, required=False, allow_null=True, help_text="方針の id")


class DashboardAdoptionQuerySerializer(CompiledRepresentation, serializers.Serializer):
    GROUPS = ("prefecture", "municipality", "policy")
    policy = serializers.IntegerField(min_value=1, required=False)
    group_by = serializers.ChoiceField(choices=GROUPS, default="prefecture")
    prefecture = serializers.RegexField(r"^\d{6}$", required=False, help_text="都道府県の団体コード (6桁) — group_by=municipality")
    ministry = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.filter(kind=OrganizationKind.MINISTRY), required=False, help_text="group_by=policy"
    )

    def validate(self, attrs):
        group = attrs["group_by"]
        if group in ("prefecture", "municipality") and "policy" not in attrs:
            raise serializers.ValidationError({"policy": [_("方針を指定してください。")]})
        if group == "municipality" and "prefecture" not in attrs:
            raise serializers.ValidationError({"prefecture": [_("都道府県を指定してください。")]})
        return attrs


class DashboardTrendQuerySerializer(CompiledRepresentation, serializers.Serializer):
    policy = serializers.IntegerField(min_value=1)
    fiscal_year = serializers.IntegerField(min_value=2000, max_value=2100, required=False)


# --- Responses (for the schema) ---------------------------------------------------------------


class DashboardStageSerializer(CompiledRepresentation, serializers.Serializer):
    total = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())


class DashboardOverdueStageSerializer(DashboardStageSerializer):
    overdue = serializers.IntegerField()


class DashboardMeasureStageSerializer(DashboardOverdueStageSerializer):
    open = serializers.IntegerField()


class DashboardSummarySerializer(CompiledRepresentation, serializers.Serializer):
    updated_at = serializers.DateTimeField()
    filters = DashboardFilterSerializer()
    candidates = DashboardStageSerializer()
    feasibility_studies = DashboardOverdueStageSerializer()
    policies = DashboardStageSerializer()
    consent_outcomes = serializers.DictField(child=serializers.IntegerField(), help_text="open / consented / not_consented")
    progress_reports = DashboardOverdueStageSerializer()
    measure_requests = DashboardMeasureStageSerializer()


class DashboardAdoptionCountsSerializer(CompiledRepresentation, serializers.Serializer):
    counts = serializers.DictField(child=serializers.IntegerField())
    total = serializers.IntegerField()
    in_use_rate = serializers.FloatField(allow_null=True, help_text="利用中 ÷ (全団体 − 対象外), %")


class DashboardAreaSerializer(DashboardAdoptionCountsSerializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    name_en = serializers.CharField()


class DashboardMunicipalitySerializer(CompiledRepresentation, serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    name_en = serializers.CharField()
    status = serializers.CharField()
    target_fiscal_year = serializers.IntegerField(allow_null=True)
    updated_at = serializers.DateTimeField()


class DashboardPolicyRefSerializer(CompiledRepresentation, serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class DashboardPolicyAdoptionSerializer(DashboardAdoptionCountsSerializer):
    policy = DashboardPolicyRefSerializer()


class DashboardAdoptionSerializer(CompiledRepresentation, serializers.Serializer):
    updated_at = serializers.DateTimeField()
    group_by = serializers.CharField()
    policy = DashboardPolicyRefSerializer(allow_null=True)
    national = DashboardAdoptionCountsSerializer(required=False)
    prefecture = serializers.DictField(required=False)
    summary = DashboardAdoptionCountsSerializer(required=False)
    results = serializers.ListField(child=serializers.DictField(), help_text="DashboardAreaSerializer, DashboardMunicipalitySerializer or DashboardPolicyAdoptionSerializer rows by group_by")


class DashboardTrendPointSerializer(DashboardAdoptionCountsSerializer):
    month = serializers.CharField(help_text="YYYY-MM")


class DashboardTrendSerializer(CompiledRepresentation, serializers.Serializer):
    updated_at = serializers.DateTimeField()
    policy = DashboardPolicyRefSerializer()
    results = DashboardTrendPointSerializer(many=True)


class DashboardSplitSerializer(CompiledRepresentation, serializers.Serializer):
    state = serializers.IntegerField()
    local = serializers.IntegerField()
    shared = serializers.IntegerField()
    manager = serializers.IntegerField()
    unallocated = serializers.IntegerField()


class DashboardCostRowSerializer(CompiledRepresentation, serializers.Serializer):
    policy = DashboardPolicyRefSerializer()
    ministry = serializers.DictField()
    fiscal_year = serializers.IntegerField()
    version = serializers.IntegerField(allow_null=True)
    cost_initial_yen = serializers.IntegerField()
    cost_annual_yen = serializers.IntegerField()
    initial_split = DashboardSplitSerializer()
    annual_split = DashboardSplitSerializer()
    staff_hours_full = serializers.IntegerField()
    affected_local_governments = serializers.IntegerField()
    in_use = serializers.IntegerField()
    staff_hours_current = serializers.IntegerField()


class DashboardCostTotalsSerializer(CompiledRepresentation, serializers.Serializer):
    cost_initial_yen = serializers.IntegerField()
    cost_annual_yen = serializers.IntegerField()
    initial_split = DashboardSplitSerializer()
    annual_split = DashboardSplitSerializer()
    staff_hours_full = serializers.IntegerField()
    staff_hours_current = serializers.IntegerField()


class DashboardCostSerializer(CompiledRepresentation, serializers.Serializer):
    updated_at = serializers.DateTimeField()
    count = serializers.IntegerField(help_text="政策の数（全ページ）")
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = DashboardCostRowSerializer(many=True, help_text="政策ごとの行（このページ）")
    totals = DashboardCostTotalsSerializer(help_text="全ページの合計")


class CostPageSerializer(CompiledRepresentation, serializers.Serializer):
    """Rows come in pages, as every list of the API does; the totals cover all of them."""

    page = serializers.IntegerField(min_value=1, default=1, required=False)
    page_size = serializers.IntegerField(
        min_value=1, max_value=Pagination.max_page_size, default=Pagination.page_size, required=False
    )


# --- Views -------------------------------------------------------------------------------------


def _params(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _filters(request) -> queries.Filters:
    params = _params(DashboardFilterSerializer, request)
    return queries.Filters(
        ministry=params["ministry"].pk if params.get("ministry") else None,
        fiscal_year=params.get("fiscal_year"),
        policy=params.get("policy"),
    )


def visible_policy(user, pk: int) -> Policy:
    return get_object_or_404(Policy.objects.visible_to(user), pk=pk)


class ConditionalView(APIView):
    """Answers If-None-Match / If-Modified-Since from the stamps before building the body, and
    keeps built bodies in the cache under the same key as the ETag (plus each stamp's time and
    the database): a body is a function of that key, so a cached one is never stale — a
    rebuild of the figures bumps a stamp, and the next request builds again."""

    def cached(self, key: str, found: list, make):
        """What `make()` gives, from the cache when it was made before for this key."""
        seconds = settings.DASHBOARD_CACHE_SECONDS
        if not seconds:
            return make()
        identity = json.dumps([key, [s.updated_at.isoformat() for s in found], connection.settings_dict["NAME"]])
        cache_key = "dashboards:body:" + hashlib.sha256(identity.encode()).hexdigest()
        value = cache.get(cache_key)
        if value is None:
            value = make()
            cache.set(cache_key, value, seconds)
        return value

    def respond(self, request, scopes: list[str], build, extra: object = None):
        found = queries.stamps(*scopes)
        viewer = "all" if access_for(request.user).is_secretariat else f"user:{request.user.pk}"
        key = json.dumps(
            [[s.scope, s.version] for s in found] + [sorted(request.query_params.items()), get_language(), viewer, extra],
            default=str,
        )
        etag = '"%s"' % hashlib.sha256(key.encode()).hexdigest()[:40]
        updated = max(s.updated_at for s in found)
        not_modified = get_conditional_response(request._request, etag=etag, last_modified=int(updated.timestamp()))
        renderer = request.accepted_renderer
        if not_modified is not None:
            response: HttpResponse = not_modified
        elif isinstance(renderer, JSONRenderer) and not isinstance(renderer, BrowsableAPIRenderer):
            # JSON (what programs ask for): the rendered bytes are what is kept, so a body
            # served from the cache is neither built nor rendered again.
            media_type = request.accepted_media_type
            content = self.cached(
                json.dumps([key, media_type]), found,
                lambda: renderer.render({"updated_at": updated} | build(), media_type, self.get_renderer_context()),
            )
            response = HttpResponse(content, content_type=renderer.media_type)
        else:
            response = Response({"updated_at": updated} | self.cached(key, found, build))
        response["ETag"] = etag
        response["Last-Modified"] = http_date(updated.timestamp())
        response["Cache-Control"] = "private, no-cache"
        patch_vary_headers(response, ["Accept", "Accept-Language", "Authorization", "Cookie"])
        return response


class SummaryView(ConditionalView):
    @extend_schema(
        summary="Pipeline, consent outcomes, overdue reports and studies, open measure requests",
        parameters=[DashboardFilterSerializer],
        responses={200: DashboardSummarySerializer, 304: OpenApiResponse(description="Not modified (ETag / Last-Modified)")},
    )
    def get(self, request):
        filters = _filters(request)
        if filters.policy is not None:
            visible_policy(request.user, filters.policy)
        return self.respond(
            request, [SUMMARY],
            lambda: {"filters": {"ministry": filters.ministry, "fiscal_year": filters.fiscal_year, "policy": filters.policy}}
            | queries.summary(filters),
        )


class AdoptionView(ConditionalView):
    @extend_schema(
        summary="Adoption counts per status: per prefecture, per local government of one prefecture, or per policy",
        parameters=[
            DashboardAdoptionQuerySerializer,
            OpenApiParameter("group_by", str, enum=list(DashboardAdoptionQuerySerializer.GROUPS), description="prefecture (default), municipality, policy"),
        ],
        responses={200: DashboardAdoptionSerializer, 304: OpenApiResponse(description="Not modified")},
    )
    def get(self, request):
        params = _params(DashboardAdoptionQuerySerializer, request)
        group = params["group_by"]
        if group == "policy":
            policies = Policy.objects.visible_to(request.user)
            if params.get("ministry"):
                policies = policies.filter(ministry=params["ministry"])
            if params.get("policy"):
                policies = policies.filter(pk=params["policy"])
            # Which policies are visible changes with the summary (rounds opened, policies created).
            return self.respond(
                request, [ADOPTION, SUMMARY],
                lambda: {"group_by": group, "policy": None, "results": queries.adoption_by_policy(policies)},
            )
        policy = visible_policy(request.user, params["policy"])
        ref = {"id": policy.pk, "title": policy.title}
        if group == "prefecture":
            return self.respond(
                request, [adoption_scope(policy.pk)],
                lambda: {"group_by": group, "policy": ref} | queries.adoption_by_prefecture(policy.pk),
            )
        prefecture = get_object_or_404(Organization, kind=OrganizationKind.PREFECTURE, code=params["prefecture"])
        return self.respond(
            request, [adoption_scope(policy.pk)],
            lambda: {"group_by": group, "policy": ref} | queries.adoption_by_municipality(policy.pk, prefecture),
        )


class AdoptionTrendView(ConditionalView):
    @extend_schema(
        summary="Adoption per status at the end of each month, for one policy",
        parameters=[DashboardTrendQuerySerializer],
        responses={200: DashboardTrendSerializer, 304: OpenApiResponse(description="Not modified")},
    )
    def get(self, request):
        params = _params(DashboardTrendQuerySerializer, request)
        policy = visible_policy(request.user, params["policy"])
        return self.respond(
            request, [adoption_scope(policy.pk)],
            lambda: {"policy": {"id": policy.pk, "title": policy.title},
                     "results": queries.adoption_trend(policy.pk, params.get("fiscal_year"))},
        )


class CostView(ConditionalView):
    @extend_schema(
        summary="Estimated costs split by payer, against staff hours saved, per policy and in total",
        parameters=[DashboardFilterSerializer, CostPageSerializer],
        responses={200: DashboardCostSerializer, 304: OpenApiResponse(description="Not modified")},
    )
    def get(self, request):
        filters = _filters(request)
        _params(CostPageSerializer, request)  # a bad page or page size is a 400, not a default
        policies = Policy.objects.visible_to(request.user)

        def build() -> dict:
            figures = queries.cost_figures(policies, filters)
            self.cost_count, totals = queries.cost_totals(figures)
            paginator = Pagination()
            page = paginator.paginate_queryset(figures, request, view=self)  # counted: known_count
            return {
                "count": self.cost_count, "next": paginator.get_next_link(), "previous": paginator.get_previous_link(),
                "results": [queries.cost_row(figure) for figure in page], "totals": totals,
            }

        # The links name the host asked: part of the cached body's key.
        return self.respond(request, [COST, SUMMARY], build, extra=request.build_absolute_uri())

    def known_count(self, request) -> int:
        return self.cost_count  # counted with the totals

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not queries.may_see_costs(request.user):
            raise NotFound  # not for this user: the resource is not there
