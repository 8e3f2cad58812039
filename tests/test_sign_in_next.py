"""/login?next=: a sign-in goes on to one of Latchkey's own pages, never to another site."""

from __future__ import annotations

import pytest

from web.navigation import after_sign_in, sign_in


@pytest.mark.parametrize(
    "asked",
    [
        "/account",
        "/account/tokens?regenerate=7",
        "/account/security#two_factor",
        "/account/log",
        # An application's sign-in (OpenID Connect) continues once Latchkey's is done.
        "/oauth/authorize?client_id=abc&redirect_uri=https%3A%2F%2Fp.example%2Fcb",
    ],
)
def test_an_account_page_is_where_it_goes_on_to(asked):
    assert after_sign_in(asked) == asked


@pytest.mark.parametrize(
    "asked",
    [
        "https://evil.example/account",
        "//evil.example/account",
        "/\\evil.example",
        "/\\/evil.example",
        " /account",
        "/account\r\nSet-Cookie: x=1",
        "/accountant",
        "/account/../login",
        "/login",
        "/oauth/token",
        "javascript:alert(1)",
        "/account/" + "x" * 3000,
        None,
        "",
    ],
)
def test_anything_else_goes_to_the_account_page(asked):
    assert after_sign_in(asked) == "/account"


def test_the_sign_in_address_carries_it_only_when_it_is_not_the_default():
    assert sign_in("/account") == "/login"
    assert sign_in("//evil.example") == "/login"
    assert (
        sign_in("/account/tokens?regenerate=7")
        == "/login?next=%2Faccount%2Ftokens%3Fregenerate%3D7"
    )

