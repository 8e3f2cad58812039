"""Pages in the reader's language: the user's choice, else the browser's Accept-Language.

A Japanese page must not show a sentence the catalog has in English; an English page must
not show Japanese (but the language names of the pickers, marked with their own `lang`).
"""

from __future__ import annotations

import html
import re
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import unquote

import httpx
from babel.messages.pofile import read_po

from backend.accounts.models import User
from backend.kernel import clock, i18n
from backend.server import failure_answers
from tests.helpers import PASSWORD, make_user, reauthenticate, submit
from tests.twofactor_helpers import enable_totp, oathtool

ACCOUNT_PAGES = (
    "/account",
    "/account/security",
    "/account/sessions",
    "/account/tokens",
    "/account/log",
    "/account/reauthenticate",
)
# A link that was never sent draws each link page's own explanation.
SIGNED_OUT_PAGES = (
    "/login",
    "/password-reset",
    "/password-reset/never-sent",
    "/secure-account/never-sent",
)
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
PLACEHOLDER = re.compile(r"\{\w+\}|%\(\w+\)s|<[^>]+>")
ISSUE = """mutation($name: String!, $at: DateTime!, $p: String!) {
  issueToken(input: {name: $name, expiresAt: $at, password: $p}) { userErrors { code } } }"""
CREDENTIALS = """mutation($p: String!) {
  generateApiCredentials(input: {password: $p}) { userErrors { code } } }"""


class _VisibleText(HTMLParser):
    """The text a reader sees (and the titles and labels a screen reader reads), leaving out
    scripts, styles and elements in another language than the page's."""

    VOID = {"input", "br", "img", "meta", "link", "hr", "source", "col", "wbr", "area"}

    def __init__(self, language: str) -> None:
        super().__init__()
        self.language = language
        self.stack: list[bool] = []  # per open element: whether its text is left out
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        skipped = (self.stack and self.stack[-1]) or tag in {"script", "style"}
        lang = attributes.get("lang")
        skipped = skipped or (lang is not None and tag != "html" and lang != self.language)
        if not skipped:
            for name in ("aria-label", "placeholder", "data-label", "title"):
                if attributes.get(name):
                    self.parts.append(attributes[name])
        if tag not in self.VOID:
            self.stack.append(bool(skipped))

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not (self.stack and self.stack[-1]):
            self.parts.append(data)

    @classmethod
    def of(cls, html: str, language: str) -> str:
        parser = cls(language)
        parser.feed(html)
        return re.sub(r"\s+", " ", " ".join(parser.parts))


def _english_phrases() -> set[str]:
    """Runs of two or more words from the catalog's English ids, without values or markup."""
    with (i18n.LOCALE_DIR / "ja" / "LC_MESSAGES" / "messages.po").open("rb") as file:
        catalog = read_po(file)
    phrases = set()
    for message in catalog:
        if not message.id:
            continue
        for english in message.id if isinstance(message.id, tuple) else (message.id,):
            for piece in PLACEHOLDER.split(english):
                piece = re.sub(r"\s+", " ", piece).strip(" .,:;()“”\"'")
                if re.search(r"[A-Za-z]+ [A-Za-z]+", piece):
                    phrases.add(piece)
    return phrases


def client_without_cookies(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """Another browser on the same app."""
    return httpx.AsyncClient(transport=client._transport, base_url=client.base_url)


async def _rich_account(gql, alice) -> None:
    """A token and API credentials, so their sections show everything they can."""
    at = (clock.now() + timedelta(days=3)).isoformat()
    issued = await gql(ISSUE, {"name": "nightly backup", "at": at, "p": PASSWORD})
    assert issued["issueToken"]["userErrors"] == []
    generated = await gql(CREDENTIALS, {"p": PASSWORD})
    assert generated["generateApiCredentials"]["userErrors"] == []


async def test_every_page_in_japanese_has_no_english_sentence(client, gql, alice):
    await _rich_account(gql, alice)
    await User.filter(id=alice.id).update(language="ja", time_zone="Asia/Tokyo")
    phrases = _english_phrases()
    assert "Two-factor authentication is off" in phrases  # the check itself has teeth
    for path in ACCOUNT_PAGES:
        page = await client.get(path)
        assert page.status_code == 200
        assert '<html lang="ja">' in page.text
        text = _VisibleText.of(page.text, "ja")
        left = sorted(phrase for phrase in phrases if phrase in text)
        assert left == [], f"{path} shows English: {left}"
        assert JAPANESE.search(text)
    log = _VisibleText.of((await client.get("/account/log")).text, "ja")
    assert "サインイン" in log and "トークンを発行" in log  # the events in words, translated
    tokens = _VisibleText.of((await client.get("/account/tokens")).text, "ja")
    assert re.search(r"\d{4}/\d\d/\d\d \d\d?:\d\d JST", tokens)  # dates as Japanese write them


async def test_signed_out_pages_follow_the_browser(client):
    phrases = _english_phrases()
    for path in SIGNED_OUT_PAGES:
        page = await client.get(path, headers={"Accept-Language": "ja,en;q=0.8"})
        assert '<html lang="ja">' in page.text
        text = _VisibleText.of(page.text, "ja")
        left = sorted(phrase for phrase in phrases if phrase in text)
        assert left == [], f"{path} shows English: {left}"
        assert JAPANESE.search(text)


async def test_every_page_in_english_has_no_japanese(client, new_client, gql, alice):
    await _rich_account(gql, alice)
    async with new_client() as signed_out:
        pages = [(client, path) for path in ACCOUNT_PAGES]
        pages += [(signed_out, path) for path in SIGNED_OUT_PAGES]
        for browser, path in pages:
            page = await browser.get(path, headers={"Accept-Language": "en-US,en;q=0.9"})
            assert page.status_code == 200
            assert '<html lang="en">' in page.text
            text = _VisibleText.of(page.text, "en")
            assert JAPANESE.search(text) is None, f"{path}: {JAPANESE.findall(text)}"
    # The pickers name Japanese in Japanese, marked as such.
    account = await client.get("/account")
    assert '<option value="ja" lang="ja"' in account.text and "日本語" in account.text


async def test_the_browser_language_holds_until_the_user_picks_one(client, gql, alice):
    japanese_browser = {"Accept-Language": "ja,en;q=0.8"}
    page = await client.get("/account", headers=japanese_browser)
    assert '<html lang="ja">' in page.text and "個人情報" in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    picked = await client.post(
        "/account/language",
        data={"csrf_token": token, "language": "en"},
        headers=japanese_browser,
    )
    assert picked.status_code == 303
    again = await client.get("/account", headers=japanese_browser)
    assert '<html lang="en">' in again.text and "Personal info" in again.text
    assert JAPANESE.search(_VisibleText.of(again.text, "en")) is None
    assert (await User.get(id=alice.id)).language == "en"
    # Back to following the browser.
    token = re.search(r'name="csrf_token" value="([^"]+)"', again.text).group(1)
    await client.post("/account/language", data={"csrf_token": token, "language": ""})
    assert '<html lang="ja">' in (await client.get("/account", headers=japanese_browser)).text


async def test_the_sign_in_switcher_remembers_the_language_in_a_cookie(client):
    login = await client.get("/login", headers={"Accept-Language": "en"})
    assert '<html lang="en">' in login.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
    switched = await client.post(
        "/language", data={"csrf_token": token, "language": "ja", "next": "/password-reset"}
    )
    assert switched.status_code == 303 and switched.headers["location"] == "/password-reset"
    page = await client.get("/password-reset", headers={"Accept-Language": "en"})
    assert '<html lang="ja">' in page.text and "パスワードをお忘れですか？" in page.text
    # Only this site's pages are a way back.
    elsewhere = await client.post(
        "/language", data={"csrf_token": token, "language": "en", "next": "//evil.example"}
    )
    assert elsewhere.headers["location"] == "/login"


async def test_a_wrong_password_on_the_japanese_sign_in_page_is_told_in_japanese(client, settings):
    await make_user(settings, "alice")
    login = await client.get("/login", headers={"Accept-Language": "ja"})
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
    refused = await client.post(
        "/login",
        data={"csrf_token": token, "username": "alice", "password": "wrong password"},
        headers={"Accept-Language": "ja"},
        follow_redirects=True,
    )
    assert refused.status_code == 200
    assert 'data-code="INVALID_CREDENTIALS">ユーザー名またはパスワードが違います。' in refused.text


async def test_two_factor_pages_and_the_recovery_codes_file_in_japanese(client, gql, alice):
    secret, _codes = await enable_totp(gql)
    await User.filter(id=alice.id).update(language="ja")
    phrases = _english_phrases()
    security = await client.get("/account/security")
    text = _VisibleText.of(security.text, "ja")
    assert "認証アプリ" in text and "リカバリーコード" in text
    assert sorted(phrase for phrase in phrases if phrase in text) == []

    asking = await client.get("/account/reauthenticate?next=/account/security")
    assert "本人確認" in asking.text
    assert sorted(p for p in phrases if p in _VisibleText.of(asking.text, "ja")) == []
    back = await reauthenticate(client, "/account/security", code=oathtool(secret))
    token = re.search(r'name="csrf_token" value="([^"]+)"', back.text).group(1)
    regenerated = await submit(
        client,
        "/account/security/two-factor/recovery-codes",
        data={"csrf_token": token, "confirm": "yes"},
    )
    link = re.search(
        r'download="[^"]+"\s+href="data:text/plain;charset=utf-8,([^"]+)"', regenerated.text
    )
    downloaded = unquote(html.unescape(link.group(1)))
    assert downloaded.startswith("localhost の alice のリカバリーコード\n\n")
    assert len(re.findall(r"^\w{4}-\w{4}-\w{4}-\w{4}$", downloaded, re.M)) == 10

    # The second step of signing in, in the account's language.
    async with client_without_cookies(client) as other:
        login = await other.get("/login", headers={"Accept-Language": "en"})
        token = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
        step = await other.post(
            "/login", data={"csrf_token": token, "username": "alice", "password": PASSWORD}
        )
        assert '<html lang="ja">' in step.text
        text = _VisibleText.of(step.text, "ja")
        assert "認証アプリに表示される 6 桁のコード" in text
        assert sorted(phrase for phrase in phrases if phrase in text) == []
        # A wrong code keeps the account's language, whatever the browser says.
        token = re.search(r'name="csrf_token" value="([^"]+)"', step.text).group(1)
        fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', step.text))
        wrong = await other.post(
            "/login/verify",
            data={**fields, "csrf_token": token, "code": "000000"},
            headers={"Accept-Language": "en"},
        )
        assert wrong.status_code == 401 and '<html lang="ja">' in wrong.text
        assert 'data-code="INVALID_OTP">' in wrong.text
        assert JAPANESE.search(re.search(r'data-code="INVALID_OTP">([^<]+)<', wrong.text).group(1))


async def test_the_error_pages_follow_the_browser(client):
    missing = await client.get(
        "/no/such/page", headers={"Accept": "text/html", "Accept-Language": "ja"}
    )
    assert missing.status_code == 404 and '<html lang="ja">' in missing.text
    assert "ページが見つかりません" in missing.text
    assert "このアドレスにページはありません" in missing.text


def test_the_bare_outage_page_follows_the_browser():
    scope = {
        "type": "http",
        "path": "/account",
        "headers": [(b"accept", b"text/html"), (b"accept-language", b"ja")],
    }
    page = failure_answers.service_unavailable(scope)
    assert page.status_code == 503
    assert '<html lang="ja">' in page.body.decode()
    assert "サービスは一時的に利用できません" in page.body.decode()
    english = failure_answers.service_unavailable({**scope, "headers": [(b"accept", b"text/html")]})
    assert "temporarily unavailable" in english.body.decode()
