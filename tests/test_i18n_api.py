"""The API speaks the reader's language: userErrors messages (codes unchanged), the
security log, and the emails, written in the recipient's chosen language."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from asgi_lifespan import LifespanManager

from backend.accounts.models import User
from backend.app.factory import create_app
from backend.app.wiring import build_services
from backend.kernel import clock
from backend.tokens import reminders
from tests.conftest import _client, settings_for, smtp_settings
from tests.helpers import PASSWORD, GraphQL, days_ahead, make_user

LANGUAGE = """mutation($language: String) { updateAccount(input: {language: $language}) {
  viewer { language } userErrors { field code message } } }"""
VIEWER = "{ viewer { language } }"
CHANGE = """mutation($c: String!, $n: String!) {
  changePassword(input: {currentPassword: $c, newPassword: $n, newPasswordConfirmation: $n}) {
    userErrors { field code message } } }"""
UPDATE = """mutation($input: UpdateAccountInput!) { updateAccount(input: $input) {
  emailVerificationSent userErrors { field code message } } }"""
SIGN_IN = """mutation { signIn(input: {username: "alice", password: "wrong"}) {
  userErrors { code message } } }"""
ISSUE = """mutation($n: String!, $e: DateTime) {
  issueToken(input: {name: $n, expiresAt: $e, password: "@PASSWORD@"}) {
    userErrors { code } } }""".replace("@PASSWORD@", PASSWORD)
LOG = "{ viewer { securityEvents(first: 5) { edges { node { kind description } } } } }"


@pytest.fixture
def settings(database_url, smtp):
    return settings_for(database_url, smtp=smtp_settings(smtp.port))


async def test_the_language_is_chosen_and_cleared_through_the_api(gql, alice):
    assert (await gql(VIEWER))["viewer"]["language"] is None  # follows the browser
    chosen = (await gql(LANGUAGE, {"language": "ja"}))["updateAccount"]
    assert chosen == {"viewer": {"language": "ja"}, "userErrors": []}
    assert (await gql(VIEWER))["viewer"]["language"] == "ja"
    cleared = (await gql(LANGUAGE, {"language": None}))["updateAccount"]
    assert cleared["viewer"]["language"] is None


@pytest.mark.parametrize("language", ["fr", "JA", "", "ja-JP"])
async def test_a_language_we_do_not_speak_is_refused(gql, alice, language):
    refused = (await gql(LANGUAGE, {"language": language}))["updateAccount"]
    assert refused["viewer"] is None
    [error] = refused["userErrors"]
    assert error["field"] == "language" and error["code"] == "VALIDATION_FAILED"
    assert (await gql(VIEWER))["viewer"]["language"] is None


async def test_a_japanese_user_is_told_a_wrong_password_in_japanese(gql, alice):
    await gql(LANGUAGE, {"language": "ja"})
    answer = await gql(CHANGE, {"c": "not my password", "n": "a brand new passphrase"})
    [error] = answer["changePassword"]["userErrors"]
    assert error["code"] == "INVALID_CREDENTIALS" and error["field"] == "currentPassword"
    assert (
        error["message"] == "パスワードが違います。サインインに使うパスワードを入力してください。"
    )
    # The same mistake in English, for a user who picked English, whatever the browser says.
    await gql(LANGUAGE, {"language": "en"})
    answer = await gql(
        CHANGE, {"c": "not my password", "n": "a brand new passphrase"}, **{"Accept-Language": "ja"}
    )
    [error] = answer["changePassword"]["userErrors"]
    assert error["code"] == "INVALID_CREDENTIALS"
    assert error["message"] == "That password is wrong. Enter the password you sign in with."


async def test_without_a_choice_messages_follow_accept_language(gql, settings):
    await make_user(settings, "alice")
    japanese = (await gql(SIGN_IN, **{"Accept-Language": "ja,en;q=0.8"}))["signIn"]["userErrors"]
    assert japanese == [
        {"code": "INVALID_CREDENTIALS", "message": "ユーザー名またはパスワードが違います。"}
    ]
    english = (await gql(SIGN_IN, **{"Accept-Language": "de, en;q=0.5"}))["signIn"]["userErrors"]
    assert english == [{"code": "INVALID_CREDENTIALS", "message": "Wrong username or password."}]


async def test_the_security_log_is_described_in_the_reader_language(gql, alice):
    await gql(LANGUAGE, {"language": "ja"})
    edges = (await gql(LOG))["viewer"]["securityEvents"]["edges"]
    described = {edge["node"]["kind"]: edge["node"]["description"] for edge in edges}
    assert described["sign_in.succeeded"] == "サインイン"
    assert described["account.updated"] == "アカウント情報を変更"


async def test_an_email_change_is_mailed_in_japanese(gql, alice, smtp):
    await gql(LANGUAGE, {"language": "ja"})
    sent = await gql(UPDATE, {"input": {"email": "alice.new@example.com", "password": PASSWORD}})
    assert sent["updateAccount"] == {"emailVerificationSent": True, "userErrors": []}
    [message] = smtp.to("alice.new@example.com")
    assert message["Subject"] == "新しいメールアドレスの確認"
    body = smtp.text(message)
    code = re.search(r"認証コードは (\d{6}) です", body).group(1)
    assert "alice" in body and "有効期間は 1 時間です" in body
    verify = """mutation($code: String!) { verifyEmailChange(input: {code: $code}) {
      userErrors { code } } }"""
    assert (await gql(verify, {"code": code}))["verifyEmailChange"]["userErrors"] == []
    [notice] = smtp.to("alice@example.com")
    assert notice["Subject"] == "メールアドレスが変更されました"
    text = smtp.text(notice)
    assert "alice.new@example.com" in text and "心当たりがない場合は" in text


async def test_a_token_reminder_is_mailed_in_the_account_language(database_url, smtp):
    settings = settings_for(database_url, smtp=smtp_settings(smtp.port))
    async with LifespanManager(create_app(settings)) as manager, _client(manager.app) as http:
        user = await make_user(settings, "alice")
        gql = GraphQL(http)
        await gql.sign_in("alice")
        await gql(LANGUAGE, {"language": "ja"})
        await User.filter(id=user.id).update(time_zone="Asia/Tokyo")
        issued = await gql(ISSUE, {"n": "deploy", "e": days_ahead(10)})
        assert issued["issueToken"]["userErrors"] == []
        clock.advance(timedelta(days=3, hours=12))
        assert await reminders.send_due(build_services(settings)) == 1
    [reminder] = [m for m in smtp.to("alice@example.com") if "deploy" in m["Subject"]]
    assert reminder["Subject"] == "トークン「deploy」の有効期限が7 日後に切れます"
    body = smtp.text(reminder)
    assert body.startswith("alice 様")
    assert "まだ一度も使われていません。" in body
    assert re.search(r"\d{4}/\d\d/\d\d \d\d?:\d\d JST に有効期限が切れます", body)


async def test_codes_by_sms_and_email_come_in_the_account_language(database_url, smtp, sms):
    settings = settings_for(database_url, smtp=smtp_settings(smtp.port), sms_webhook_url=sms.url)
    async with LifespanManager(create_app(settings)) as manager, _client(manager.app) as http:
        user = await make_user(settings, "alice")
        gql = GraphQL(http)
        await gql.sign_in("alice")
        await gql(LANGUAGE, {"language": "ja"})
        await User.filter(id=user.id).update(mobile_phone="+14155552671")
        start = """mutation($m: TwoFactorMethod!) {
          startCodeSetup(input: {method: $m, password: "@P@"}) { sent } }""".replace(
            "@P@", PASSWORD
        )
        assert (await gql(start, {"m": "SMS"}))["startCodeSetup"]["sent"]
        assert (await gql(start, {"m": "EMAIL"}))["startCodeSetup"]["sent"]
    assert re.fullmatch(r"Latchkey の認証コードは \d{6} です。", sms.messages[-1]["text"])
    [mail] = [m for m in smtp.to("alice@example.com") if m["Subject"] == "Latchkey の認証コード"]
    assert "有効期間は 10 分です" in smtp.text(mail)
