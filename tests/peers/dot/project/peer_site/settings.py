"""Settings of a throwaway Django site that hosts django-oauth-toolkit for interop tests.

Only for tests on 127.0.0.1: the secret key is public and passwords are hashed with MD5 so
that each client authentication takes milliseconds rather than PBKDF2's quarter second.
"""
import os
from pathlib import Path

RUN_DIR = Path(os.environ.get("PEER_RUN_DIR", Path(__file__).resolve().parents[2] / "run"))

SECRET_KEY = "interop-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
    "peer_site",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "peer_site.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [Path(__file__).resolve().parents[1] / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
# Tests run concurrently: wait for SQLite's write lock instead of failing with "database is
# locked" (which Django turns into a 500).
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(RUN_DIR / "db.sqlite3"),
        "OPTIONS": {"timeout": 30},
    }
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
LOGIN_URL = "/accounts/login/"

OAUTH2_PROVIDER = {
    "SCOPES": {"read": "Read", "write": "Write"},
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 120,
    # Rotation with no grace period: a used refresh token fails at once.
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    # Optional, so the tests can show both a PKCE flow and what happens without a verifier.
    "PKCE_REQUIRED": False,
    # The device authorization grant (RFC 8628): where the user enters the code, and a short
    # polling interval so the test of `oauth device` does not wait five seconds a poll.
    "OAUTH_DEVICE_VERIFICATION_URI": os.environ.get("PEER_BASE_URL", "http://127.0.0.1") + "/o/device/",
    "DEVICE_FLOW_INTERVAL": 1,
}
