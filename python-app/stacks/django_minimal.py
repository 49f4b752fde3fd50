"""E-coldstart's serverless case for Django: a single-module project (settings, one URL and its
view) with none of the contract's endpoint logic (`claimbench_app`), as a function's handler
module would be. Served by the same gunicorn command line as `stacks.django_app.wsgi`, with the
same production settings (DEBUG off, no apps, the default project's two middlewares)."""

from __future__ import annotations

import os

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import path

STACK = os.environ.get("STACK") or "django"

settings.configure(
    SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY") or "claimbench-has-no-secrets-to-sign",
    DEBUG=False,
    ALLOWED_HOSTS=sorted({os.environ.get("HOST") or "127.0.0.1", "127.0.0.1", "localhost", "[::1]"}),
    INSTALLED_APPS=[],
    DATABASES={},
    MIDDLEWARE=["django.middleware.security.SecurityMiddleware", "django.middleware.common.CommonMiddleware"],
    ROOT_URLCONF=__name__,
    USE_TZ=True,
    LOGGING_CONFIG=None,
)


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok", "stack": STACK})


urlpatterns = [path("health", health)]

from django.core.wsgi import get_wsgi_application  # noqa: E402  (after settings.configure)

application = get_wsgi_application()
