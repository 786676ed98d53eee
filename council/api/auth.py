from django.utils.translation import gettext_lazy as _
from django_otp import devices_for_user, verify_token
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import ValidationError

from council.security import TokenRateThrottle, lockout_api_response


class TokenRequestSerializer(AuthTokenSerializer):
    """Username and password; and, for a user who set up two-factor authentication, the
    current code, so a password alone cannot be turned into a token that skips it."""

    otp_token = serializers.CharField(
        label=_("確認コード"), required=False, write_only=True, help_text=_("二要素認証を設定した利用者のみ")
    )

    def validate(self, attrs):
        attrs = super().validate(attrs)
        devices = list(devices_for_user(attrs["user"], confirmed=True))
        if devices:
            code = (attrs.get("otp_token") or "").strip()
            if not code:
                raise ValidationError({"otp_token": [_("二要素認証の確認コードを入力してください。")]})
            if not any(verify_token(attrs["user"], device.persistent_id, code) for device in devices):
                raise ValidationError({"otp_token": [_("確認コードが正しくありません。")]})
        return attrs


class ObtainTokenView(ObtainAuthToken):
    """Exchange a username and password for an API token (`Authorization: Token <token>`)."""

    serializer_class = TokenRequestSerializer
    # Per client address, on top of the lockout of one username+address (django-axes).
    throttle_classes = [TokenRateThrottle]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={200: inline_serializer("Token", {"token": serializers.CharField()})},
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except ValidationError:
            # django-axes flags the DRF request it was given (the middleware sees only the
            # Django one): a locked-out username+address gets 429 with Retry-After.
            if getattr(request, "axes_locked_out", False):
                return lockout_api_response(request, getattr(request, "axes_credentials", None))
            raise
