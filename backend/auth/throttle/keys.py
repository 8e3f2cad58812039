"""What the throttle counts: accounts (by canonical name), addresses, re-authentications,
codes, clients, passkey sign-ins started.

Keys stay within the column's 255 characters whatever the input: a long variable part
is replaced by its digest, which is still one key per value.
"""

from backend.accounts.models import User
from backend.accounts.service import username_key
from backend.kernel.client_info import ClientInfo
from backend.kernel.crypto import digest

LONGEST_PART = 128  # a SHA-256 digest is 64; prefixes are short


def account_key(username: str) -> str:
    # Unknown names get counters too, so they answer exactly like real accounts.
    return _key("sign-in:account", username_key(username))


def known_browser_key(nonce: str) -> str:
    """Sign-in attempts from a browser that signed in to the account before (its cookie's
    nonce): a stranger's lock on account_key does not reach it."""
    return _key("sign-in:browser", nonce)


def address_key(client: ClientInfo) -> str:
    return _key("sign-in:address", client.ip_address)


def passkey_start_key(client: ClientInfo) -> str:
    """Passkey sign-ins started from one address: each stores a challenge until it ends."""
    return _key("passkey-start:address", client.ip_address)


def reauthentication_key(user: User) -> str:
    return f"reauthentication:password:{user.id}"


def second_factor_key(user: User) -> str:
    """Shared by authenticator codes, email and SMS codes and recovery codes."""
    return f"second-factor:{user.id}"


def email_change_key(user: User) -> str:
    """Requests to change the email address, each of which sends a message."""
    return f"email-change:{user.id}"


def sms_account_key(user: User) -> str:
    return f"sms:account:{user.id}"


def sms_number_key(number: str) -> str:
    return _key("sms:number", number)


def client_secret_key(client_id: str, client: ClientInfo) -> str:
    """Wrong secrets for a client id, from one address: a stranger cannot lock out the owner."""
    return _key("oauth-client", f"{client_id}@{client.ip_address}")


def client_address_key(client: ClientInfo) -> str:
    """Wrong secrets from one address, whatever the client id."""
    return _key("oauth-client:address", client.ip_address)


def reset_login_key(login: str) -> str:
    """Reset requests for one username or email, known or not, so both answer alike."""
    return _key("reset:login", username_key(login))


def reset_address_key(client: ClientInfo) -> str:
    return _key("reset:address", client.ip_address)


def reset_account_key(user: User) -> str:
    """Reset links mailed to one account, whether asked for by username or by email."""
    return f"reset:account:{user.id}"


def _key(kind: str, value: str) -> str:
    if len(value) > LONGEST_PART:
        value = "sha256:" + digest(value)
    return f"{kind}:{value}"
