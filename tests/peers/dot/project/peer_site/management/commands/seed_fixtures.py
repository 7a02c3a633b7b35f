"""Creates the user and the clients the interop tests use (one client per grant type, since
django-oauth-toolkit ties each application to one)."""
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from oauth2_provider.models import get_application_model

REDIRECT_URI = "http://127.0.0.1:9/callback"
DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
CLIENTS = [
    ("cc-client", "cc-secret", "client-credentials", ""),
    ("pw-client", "pw-secret", "password", ""),
    ("ac-client", "ac-secret", "authorization-code", REDIRECT_URI),
    # Every character RFC 6749 §2.3.1 makes the client form-urlencode in the Basic header.
    ("odd:client id%+/&=", "p@ss:w+rd/%&= x", "client-credentials", ""),
    # A public client, as a TV or a command line is: no secret.
    ("device-client", "", DEVICE_CODE, ""),
]


class Command(BaseCommand):
    help = "Create the interop test user and clients"

    def handle(self, *args, **options):
        user, created = get_user_model().objects.get_or_create(username="alice")
        if created:
            user.set_password("wonderland")
            user.save()
        application = get_application_model()
        for client_id, secret, grant, redirect in CLIENTS:
            application.objects.update_or_create(
                client_id=client_id,
                defaults=dict(
                    name=client_id,
                    client_secret=secret,
                    client_type=application.CLIENT_PUBLIC if grant == DEVICE_CODE else application.CLIENT_CONFIDENTIAL,
                    authorization_grant_type=grant,
                    redirect_uris=redirect,
                    user=user,
                    skip_authorization=False,
                    algorithm="",
                ),
            )
        self.stdout.write("fixtures ready")
