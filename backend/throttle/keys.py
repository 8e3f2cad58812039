"""What the throttle counts: accounts (by canonical name), client addresses, step-ups."""

from backend.accounts.models import User
from backend.accounts.service import username_key
from backend.client import ClientInfo


def account_key(username: str) -> str:
    # Unknown names get counters too, so they answer exactly like real accounts.
    return f"sign-in:account:{username_key(username)}"


def address_key(client: ClientInfo) -> str:
    return f"sign-in:address:{client.ip_address}"


def step_up_key(user: User) -> str:
    return f"step-up:password:{user.id}"
