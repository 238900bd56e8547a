"""An OAuth client app for tests: the authorization-code grant with PKCE, driven by authlib's OAuth2 client."""

import secrets

import requests
from authlib.integrations.requests_client import OAuth2Session

REDIRECT_URI = "https://client.example.org/callback"


class AuthorizationCodeFlow:
    """A client app using the authorization-code grant with PKCE, and a user consenting with an API key."""

    def __init__(self, stack, tenant, scope: str, **session_options):
        self.stack = stack
        self.client = tenant.oauth_client("authorization_code", scope, f"--redirect-uri {REDIRECT_URI}")
        self.session = OAuth2Session(
            self.client["client_id"],
            self.client["client_secret"],
            scope=scope,
            redirect_uri=REDIRECT_URI,
            code_challenge_method="S256",
            **session_options,
        )
        self.verifier = secrets.token_urlsafe(48)
        self.url, self.state = self.session.create_authorization_url(
            f"{stack.base_url}/o/authorize/", code_verifier=self.verifier
        )

    def consent(self, key: str, allow: str = "yes") -> str:
        """The Location the user's consent redirects to."""
        response = requests.post(self.url, data={"allow": allow}, headers={"X-api-key": key}, allow_redirects=False)
        assert response.status_code == 302, response.text
        return response.headers["Location"]

    def token(self, location: str) -> dict:
        return self.session.fetch_token(
            f"{self.stack.base_url}/o/token/", authorization_response=location, code_verifier=self.verifier
        )
