from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from council import health
from council.dashboards import views as dashboard_views

urlpatterns = [
    path("", dashboard_views.dashboard, name="home"),
    path("", include("council.dashboards.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("", include("candidates.urls")),
    path("", include("policies.urls")),
    path("", include("progress.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("council.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The docs page is for people: send a signed-out browser to the login page, not a 401.
    path(
        "api/docs/",
        login_required(SpectacularSwaggerView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
]
