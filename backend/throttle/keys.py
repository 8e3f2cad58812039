"""What the sign-in throttle counts: accounts (by canonical name) and client addresses."""

from backend.accounts.service import username_key
from backend.client import ClientInfo


def account_key(username: str) -> str:
    # Unknown names get counters too, so they answer exactly like real accounts.
    return f"sign-in:account:{username_key(username)}"


def address_key(client: ClientInfo) -> str:
    return f"sign-in:address:{client.ip_address}"
