"""Error pages. Under /api/ a client gets JSON like every other API answer (DRF's
`{"detail": …}`), also when no route matched — e.g. /api/v1/meetings/-1/attendees/2/, whose
nested route takes digits only — instead of the HTML page meant for people."""

from __future__ import annotations

from django.http import JsonResponse
from django.views import defaults
from rest_framework.exceptions import APIException, NotFound


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request, exception, template_name=defaults.ERROR_404_TEMPLATE_NAME):
    if _is_api(request):
        return JsonResponse({"detail": str(NotFound.default_detail)}, status=404)
    return defaults.page_not_found(request, exception, template_name)


def server_error(request, template_name=defaults.ERROR_500_TEMPLATE_NAME):
    if _is_api(request):
        return JsonResponse({"detail": str(APIException.default_detail)}, status=500)
    return defaults.server_error(request, template_name)
