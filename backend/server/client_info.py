"""The client's address and browser, believing X-Forwarded-For only from trusted proxies."""

from starlette.requests import HTTPConnection

from backend.infra.config import Settings
from backend.kernel.client_info import ClientInfo


def client_info(request: HTTPConnection, settings: Settings) -> ClientInfo:
    return ClientInfo(
        ip_address=_client_address(request, settings.trusted_proxies),
        user_agent=request.headers.get("user-agent", ""),
    )


def _client_address(request: HTTPConnection, trusted_proxies: tuple[str, ...]) -> str:
    peer = request.client.host if request.client else ""
    if peer not in trusted_proxies:
        return peer
    hops = [hop.strip() for hop in request.headers.get("x-forwarded-for", "").split(",")]
    for hop in reversed(hops):
        if hop and hop not in trusted_proxies:
            return hop
    return peer
