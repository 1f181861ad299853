"""The way admins' scripts assign licenses today, for comparison with commcred, with the
Microsoft Graph Python SDK (msgraph-sdk) and its default middleware (its retry handler
honours Retry-After on 429), in one of two ways:

- per-user (default): one assignLicense request per user, in sequence — the common script;
- --batch: what a careful script writer does — the SDK's own batch request content
  (BatchRequestContent, 20 assignLicense items per $batch, Graph's limit), --concurrency
  batches in flight (default 4), and each item answered 429 or 5xx sent again in a later
  batch after the longest Retry-After of its batch (1 s without one), up to 5 times.

Pointed at the local emulator through a custom access-token provider (client credentials
against the emulator's token endpoint) and the adapter's base URL.

usage: graph_sdk_baseline.py BASE_URL TENANT UPNS_FILE SKU_ID [--batch] [--concurrency N]
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
from msgraph_core.requests.batch_request_content import BatchRequestContent
from msgraph_core.requests.batch_request_item import BatchRequestItem

RETRYABLE = (429, 500, 502, 503, 504)
ATTEMPTS = 5


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


def graph_client(base_url, tenant):
    secret = os.environ.get("AZURE_CLIENT_SECRET", "baseline-secret")
    auth = BaseBearerTokenAuthenticationProvider(
        EmulatorTokens(base_url, tenant, "sdk-baseline", secret)
    )
    http = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(timeout=100)
    )
    adapter = GraphRequestAdapter(auth, client=http)
    adapter.base_url = f"{base_url}/v1.0"
    return GraphServiceClient(request_adapter=adapter)


def license_body(sku_id):
    return AssignLicensePostRequestBody(
        add_licenses=[AssignedLicense(sku_id=sku_id, disabled_plans=[])],
        remove_licenses=[],
    )


async def per_user(graph, upns, sku_id):
    """One request per user, in sequence; returns (failed, retried)."""
    failed = retried = 0
    for upn in upns:
        # What a careful script does on top of the SDK's own retries: try a few more times.
        for attempt in range(ATTEMPTS):
            try:
                await graph.users.by_user_id(upn).assign_license.post(license_body(sku_id))
                break
            except APIError as e:
                if e.response_status_code in RETRYABLE and attempt < ATTEMPTS - 1:
                    retried += 1
                    await asyncio.sleep(1)
                    continue
                failed += 1
                break
            except httpx.TransportError:
                # A dropped connection: the SDK does not retry it; a careful script does.
                if attempt < ATTEMPTS - 1:
                    retried += 1
                    await asyncio.sleep(1)
                    continue
                failed += 1
                break
    return failed, retried


def retry_after(item):
    headers = {k.lower(): v for k, v in (item.headers or {}).items()} if item else {}
    try:
        return float(headers.get("retry-after", 1))
    except (TypeError, ValueError):
        return 1.0


async def one_batch(graph, upns, sku_id):
    """One $batch of the SDK's BatchRequestContent; returns the UPNs to send again and
    how long to wait first (None: the batch itself failed, send them all again)."""
    items = {}
    for n, upn in enumerate(upns):
        info = graph.users.by_user_id(upn).assign_license.to_post_request_information(
            license_body(sku_id)
        )
        items[str(n + 1)] = BatchRequestItem(request_information=info, id=str(n + 1))
    try:
        answer = await graph.batch.post(batch_request_content=BatchRequestContent(items))
    except (APIError, httpx.TransportError):
        return list(upns), 1.0
    codes = answer.get_response_status_codes()
    again, wait = [], 0.0
    for n, upn in enumerate(upns):
        code = codes.get(str(n + 1))
        if code is None or code in RETRYABLE:
            again.append(upn)
            wait = max(wait, retry_after(answer.get_response_by_id(str(n + 1))))
    return again, wait


async def batched(graph, upns, sku_id, concurrency):
    """Batches of 20 with `concurrency` in flight; returns (failed, retried)."""
    chunks = [upns[i : i + BatchRequestContent.MAX_REQUESTS] for i in range(0, len(upns), 20)]
    gate = asyncio.Semaphore(concurrency)
    totals = {"failed": 0, "retried": 0}

    async def send(chunk):
        pending = chunk
        for attempt in range(ATTEMPTS):
            async with gate:
                pending, wait = await one_batch(graph, pending, sku_id)
            if not pending:
                return
            if attempt < ATTEMPTS - 1:
                totals["retried"] += len(pending)
                await asyncio.sleep(wait or 1.0)
        totals["failed"] += len(pending)

    await asyncio.gather(*(send(c) for c in chunks))
    return totals["failed"], totals["retried"]


async def main():
    args = sys.argv[1:]
    base_url, tenant, upns_file, sku_id = args[0:4]
    batch = "--batch" in args
    concurrency = int(args[args.index("--concurrency") + 1]) if "--concurrency" in args else 4
    graph = graph_client(base_url, tenant)
    with open(upns_file) as f:
        upns = [line.strip() for line in f if line.strip()]
    start = time.monotonic()
    if batch:
        failed, retried = await batched(graph, upns, sku_id, concurrency)
    else:
        failed, retried = await per_user(graph, upns, sku_id)
    elapsed = time.monotonic() - start
    print(json.dumps({"elapsed": elapsed, "users": len(upns), "failed": failed, "retried": retried}))


if __name__ == "__main__":
    asyncio.run(main())
