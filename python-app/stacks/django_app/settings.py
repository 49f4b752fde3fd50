"""Django settings for the claimbench stack: production mode (DEBUG off), no database, no
sessions, auth, CSRF or templates (a stateless JSON API needs none of them), and the default
project's SecurityMiddleware and CommonMiddleware kept. python-app/README.md records why."""

from __future__ import annotations

import os

from claimbench_app.logic import MAX_JSON_BODY_BYTES

# Nothing here signs or encrypts anything (no sessions, no CSRF), but Django refuses to start
# without a key; a real deployment reads it from the environment the same way.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or "claimbench-has-no-secrets-to-sign"
DEBUG = False
# The app is served on loopback only; HOST is the address the supervisor binds.
ALLOWED_HOSTS = sorted({os.environ.get("HOST") or "127.0.0.1", "127.0.0.1", "localhost", "[::1]"})

INSTALLED_APPS: list[str] = []
DATABASES: dict[str, dict[str, str]] = {}
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]
ROOT_URLCONF = "stacks.django_app.urls"
WSGI_APPLICATION = "stacks.django_app.wsgi.application"

# request.body refuses a larger body (RequestDataTooBig), which the view answers with 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_JSON_BODY_BYTES
USE_TZ = True
# Errors are logged by gunicorn's error log only; no e-mails to ADMINS.
LOGGING_CONFIG = None
