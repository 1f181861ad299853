"""The way admins' scripts assign licenses today, for comparison with commcred: the
Microsoft Graph Python SDK (msgraph-sdk), one assignLicense request per user, in sequence,
with the SDK's default middleware (its retry handler honours Retry-After on 429).

Pointed at the local emulator through a custom access-token provider (client credentials
against the emulator's token endpoint) and the adapter's base URL.

usage: graph_sdk_baseline.py BASE_URL TENANT UPNS_FILE SKU_ID
prints one JSON line: {"elapsed": s, "users": n, "failed": n, "retried": n}
"""

import asyncio
import json
import os
import sys
import time
from urllib.parse import urlparse

import httpx
from kiota_abstractions.api_error import APIError
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.models.assigned_license import AssignedLicense
from msgraph.generated.users.item.assign_license.assign_license_post_request_body import (
    AssignLicensePostRequestBody,
)
from msgraph_core import GraphClientFactory


class EmulatorTokens(AccessTokenProvider):
    """Client credentials against the emulator, cached until shortly before expiry."""

    def __init__(self, base_url, tenant, client_id, secret):
        self._url = f"{base_url}/{tenant}/oauth2/v2.0/token"
        self._form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
            "scope": "https://graph.microsoft.com/.default",
        }
        self._token = None
        self._refresh_at = 0.0
        self._hosts = AllowedHostsValidator([urlparse(base_url).netloc])

    async def get_authorization_token(self, uri, additional_authentication_context=None):
        if self._token is None or time.monotonic() > self._refresh_at:
            async with httpx.AsyncClient() as http:
                r = await http.post(self._url, data=self._form)
                r.raise_for_status()
                body = r.json()
            self._token = body["access_token"]
            self._refresh_at = time.monotonic() + body.get("expires_in", 3599) / 2
        return self._token

    def get_allowed_hosts_validator(self):
        return self._hosts


async def main():
    base_url, tenant, upns_file, sku_id = sys.argv[1:5]
    secret = os.environ.get("AZURE_CLIENT_SECRET", "baseline-secret")
    auth = BaseBearerTokenAuthenticationProvider(
        EmulatorTokens(base_url, tenant, "sdk-baseline", secret)
    )
    http = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(timeout=100)
    )
    adapter = GraphRequestAdapter(auth, client=http)
    adapter.base_url = f"{base_url}/v1.0"
    graph = GraphServiceClient(request_adapter=adapter)

    with open(upns_file) as f:
        upns = [line.strip() for line in f if line.strip()]
    failed = retried = 0
    start = time.monotonic()
    for upn in upns:
        body = AssignLicensePostRequestBody(
            add_licenses=[AssignedLicense(sku_id=sku_id, disabled_plans=[])],
            remove_licenses=[],
        )
        # What a careful script does on top of the SDK's own retries: try a few more times.
        for attempt in range(5):
            try:
                await graph.users.by_user_id(upn).assign_license.post(body)
                break
            except APIError as e:
                if e.response_status_code in (429, 500, 502, 503, 504) and attempt < 4:
                    retried += 1
                    await asyncio.sleep(1)
                    continue
                failed += 1
                break
            except httpx.TransportError:
                # A dropped connection: the SDK does not retry it; a careful script does.
                if attempt < 4:
                    retried += 1
                    await asyncio.sleep(1)
                    continue
                failed += 1
                break
    elapsed = time.monotonic() - start
    print(json.dumps({"elapsed": elapsed, "users": len(upns), "failed": failed, "retried": retried}))


if __name__ == "__main__":
    asyncio.run(main())
