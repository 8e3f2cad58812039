"""Authenticator apps (RFC 6238): 6 digits, SHA-1, 30 seconds, one step of drift either way."""

from __future__ import annotations

from backend.auth.factors.models import Authenticator
from backend.kernel import clock

DRIFT_STEPS = 1


def new_secret() -> str:
    import pyotp  # only authenticator set-up and codes need it

    return pyotp.random_base32()  # 160 bits


def provisioning_uri(secret: str, *, username: str, issuer: str) -> str:
    import pyotp

    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def qr_code_svg(uri: str) -> str:
    import segno  # only setting up an authenticator draws a QR code

    qr = segno.make_qr(uri, error="m")
    return qr.svg_inline(
        scale=4,
        border=2,
        dark="#111",
        light="#fff",
        title="Scan with your authenticator app",
        svgclass="qr",
        omitsize=True,  # a viewBox instead of a fixed size: the code fills its box, no gap
    )


def matching_timecode(secret: str, code: str) -> int | None:
    """The time step a code belongs to (within the allowed drift), or None."""
    import pyotp

    code = code.replace(" ", "").strip()
    if not (code.isdigit() and len(code) == 6):
        return None
    try:
        return pyotp.TOTP(secret).verify_and_get_timecode(
            code, for_time=clock.now(), valid_window=DRIFT_STEPS
        )
    except pyotp.exceptions.OTPVerificationError:
        return None


async def consume(authenticator: Authenticator, secret: str, code: str) -> bool:
    """Accept a code once: the stored time step only moves forward, atomically.

    Two workers given the same code race on one conditional UPDATE; one of them wins.
    """
    timecode = matching_timecode(secret, code)
    if timecode is None:
        return False
    advanced = await Authenticator.filter(id=authenticator.id, last_timecode__lt=timecode).update(
        last_timecode=timecode
    )
    return advanced == 1
