from django.urls import include, path
from rest_framework.routers import DefaultRouter

from candidates.api import BusinessAreaViewSet
from council.api.auth import ObtainTokenView
from tenants.api import OrganizationViewSet

router = DefaultRouter()
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("business-areas", BusinessAreaViewSet, basename="business-area")

urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("", include(router.urls)),
]
