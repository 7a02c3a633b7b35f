"""A second implementation of RFC 7523 for the workload-identity tests: an authorization
server on Authlib (the oidc-provider peer's JWT bearer handler is this project's own code).

It verifies "platform tokens" — JWTs the tests sign with tests/fixtures/rsa-private.pem,
standing in for Kubernetes', GitHub's or a SPIFFE issuer — against the fixture's public key:
  - the JWT bearer grant (RFC 7523 §2.1): the assertion's `iss` names the client;
  - JWT client assertions (RFC 7523 §2.2) with client credentials, each `jti` accepted once.
Tokens of client `authlib-fleet` live 4 seconds, for fleet tests measured in refresh
windows; GET /issued counts the tokens issued per client, the provider's own count.

Usage: python server.py PORT FIXTURES_DIR  (listens on 127.0.0.1 only)
"""

import sys
from collections import Counter

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion, JWTBearerGrant
from authlib.common.security import generate_token
from flask import Flask, jsonify
from joserfc.jwk import RSAKey

port, fixtures = int(sys.argv[1]), sys.argv[2]
issuer = f"http://127.0.0.1:{port}"
token_url = f"{issuer}/token"
with open(f"{fixtures}/rsa-public.pem", "rb") as pem:
    platform_key = RSAKey.import_key(pem.read())


class Client(ClientMixin):
    def __init__(self, client_id, expires_in):
        self.client_id, self.expires_in = client_id, expires_in

    def get_client_id(self):
        return self.client_id

    def get_allowed_scope(self, scope):
        return scope or ""

    def check_endpoint_auth_method(self, method, endpoint):
        return method == JWTBearerClientAssertion.CLIENT_AUTH_METHOD

    def check_grant_type(self, grant_type):
        return grant_type in (JWTBearerGrant.GRANT_TYPE, "client_credentials")


clients = {name: Client(name, expires_in) for name, expires_in in [("authlib-workload", 3600), ("authlib-fleet", 4)]}
issued = Counter()
used_jtis = set()


def save_token(token, request):
    issued[request.client.client_id] += 1


class PlatformJwtBearerGrant(JWTBearerGrant):
    def resolve_issuer_client(self, issuer_claim):
        return clients.get(issuer_claim)

    def resolve_client_public_key(self, client):
        return platform_key

    def authenticate_user(self, subject):
        return subject  # the workload the platform vouches for

    def has_granted_permission(self, client, user):
        return True

    def get_audiences(self):
        return [issuer, token_url]


class PlatformClientAssertion(JWTBearerClientAssertion):
    def get_audiences(self):
        return [issuer, token_url]

    def resolve_client_public_key(self, client):
        return platform_key

    def validate_jti(self, claims, jti):
        if (claims["sub"], jti) in used_jtis:
            return False
        used_jtis.add((claims["sub"], jti))
        return True


class AssertedClientCredentialsGrant(ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = [JWTBearerClientAssertion.CLIENT_AUTH_METHOD]


app = Flask(__name__)
server = AuthorizationServer(app, query_client=clients.get, save_token=save_token)
server.register_token_generator(
    "default",
    BearerTokenGenerator(
        access_token_generator=lambda **_: generate_token(42),
        expires_generator=lambda client, grant_type: client.expires_in,
    ),
)
server.register_grant(PlatformJwtBearerGrant)
server.register_grant(AssertedClientCredentialsGrant)
server.register_client_auth_method(JWTBearerClientAssertion.CLIENT_AUTH_METHOD, PlatformClientAssertion())


@app.post("/token")
def token():
    return server.create_token_response()


@app.get("/issued")
def issued_counts():
    return jsonify(issued)


@app.get("/.well-known/oauth-authorization-server")
def metadata():
    return jsonify(
        issuer=issuer,
        token_endpoint=token_url,
        grant_types_supported=[JWTBearerGrant.GRANT_TYPE, "client_credentials"],
        token_endpoint_auth_methods_supported=["private_key_jwt"],
    )


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=port, threaded=True)
