"""Two-factor authentication pages: set up a TOTP device, and give its code after the password.

The gate that sends users here is council.security.OTPRequiredMiddleware.
"""

from __future__ import annotations

import base64
from base64 import b32encode

import django_otp
import qrcode
import qrcode.image.svg
from django import forms
from django.contrib import messages
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django_otp.plugins.otp_totp.models import TOTPDevice

from council.security import has_device, may_enroll, must_enroll


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("確認コード（6桁）"),
        max_length=6,
        min_length=6,
        help_text=gettext_lazy("認証アプリに表示されている6桁の数字を入力してください。"),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]*", "autofocus": True}
        ),
        error_messages={
            "required": gettext_lazy("確認コードを入力してください。"),
            "min_length": gettext_lazy("確認コードは6桁の数字です。"),
            "max_length": gettext_lazy("確認コードは6桁の数字です。"),
        },
    )

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        if not code.isascii() or not code.isdigit():
            raise forms.ValidationError(_("確認コードは6桁の数字です。"))
        return code


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return "/"


def _check(device: TOTPDevice, form: CodeForm) -> bool:
    """Verify the form's code on `device`; on failure say why on the form."""
    allowed, _details = device.verify_is_allowed()
    if not allowed:
        form.add_error("code", _("確認コードの誤りが続いたため、しばらく受け付けません。少し待ってからもう一度入力してください。"))
        return False
    # django_otp.verify_token locks the device row, so the throttle counts every try once.
    if django_otp.verify_token(device.user, device.persistent_id, form.cleaned_data["code"]) is None:
        form.add_error("code", _("確認コードが正しくありません。認証アプリの最新のコードを入力してください。"))
        return False
    return True


def _qr_data_uri(url: str) -> str:
    # An image, not inline SVG markup: the page's policy allows `data:` images only.
    svg = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10).to_string()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@login_required
@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app (QR code and secret), confirmed by its first code; or,
    once set up, turn it off again with a code (unless the user's role requires it)."""
    user = request.user
    if not may_enroll(user):
        raise Http404
    confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if confirmed is not None:
        return _manage(request, confirmed)

    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=_("認証アプリ"), confirmed=False)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _check(device, form):
        with transaction.atomic():
            TOTPDevice.objects.filter(user=user, confirmed=False).exclude(pk=device.pk).delete()
            TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
        device.refresh_from_db()
        django_otp.login(request, device)
        request.session.cycle_key()
        messages.success(request, _("二要素認証を設定しました。次回からログイン時に確認コードの入力が必要です。"))
        return redirect(_next_url(request))
    return render(
        request,
        "otp/setup.html",
        {
            "form": form,
            "qr": _qr_data_uri(device.config_url),
            "secret": _grouped(b32encode(device.bin_key).decode("ascii")),
            "required": must_enroll(user),
            "next": _next_url(request),
        },
        status=400 if form.errors else 200,
    )


def _manage(request: HttpRequest, device: TOTPDevice) -> HttpResponse:
    required = must_enroll(request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST":
        if required:
            messages.error(request, _("この役割では二要素認証を解除できません。"))
            return redirect("otp-setup")
        if form.is_valid() and _check(device, form):
            TOTPDevice.objects.filter(user=request.user).delete()
            messages.success(request, _("二要素認証を解除しました。"))
            return redirect("otp-setup")
    return render(
        request,
        "otp/manage.html",
        {"form": form, "device": device, "required": required},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """The second step of logging in: the code from the user's authenticator app."""
    user = request.user
    if not has_device(user) or user.is_verified():
        return redirect(_next_url(request))
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _check(device, form):
        django_otp.login(request, device)
        # A new session id for the now fully signed-in session.
        request.session.cycle_key()
        return redirect(_next_url(request))
    if request.method == "POST":
        # A wrong second factor is a failed login: the audit trail records it (and the lockout
        # counts it) like a wrong password. The code itself is never passed on.
        user_login_failed.send(
            sender=__name__, credentials={"username": user.get_username(), "otp_token": "********"}, request=request
        )
    return render(
        request, "otp/verify.html", {"form": form, "next": _next_url(request)}, status=400 if form.errors else 200
    )
