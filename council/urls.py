from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path, reverse_lazy
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from council import health, otp_views
from council.dashboards import views as dashboard_views

urlpatterns = [
    # The API first: URLs are tried in order, and the pages' includes below all start at "".
    path("api/v1/", include("council.api.urls")),
    path("", dashboard_views.dashboard, name="home"),
    path("", include("council.dashboards.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("", include("council.ops.urls")),
    path("", include("candidates.urls")),
    path("", include("policies.urls")),
    path("", include("progress.urls")),
    path("", include("council.audit.urls")),
    path("", include("council.trace.urls")),
    path("", include("council.meetings.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(
            template_name="registration/password_change.html", success_url=reverse_lazy("password_change_done")
        ),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="registration/password_changed.html"),
        name="password_change_done",
    ),
    path("accounts/two-factor/", otp_views.setup, name="otp-setup"),
    path("accounts/two-factor/verify/", otp_views.verify, name="otp-verify"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The docs page is for people: send a signed-out browser to the login page, not a 401.
    # The split view serves its start-up script as a file (?script=), not inline: CSP.
    path(
        "api/docs/",
        login_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api_docs.html")),
        name="api-docs",
    ),
]

handler404 = "council.errors.page_not_found"
handler500 = "council.errors.server_error"
