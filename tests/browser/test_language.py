"""A person switches Personal info to Japanese: the whole page, and the next email change's
mail, come in Japanese."""

from __future__ import annotations

import asyncio
import re

from playwright.async_api import expect

from tests.browser.conftest import screenshot_path
from tests.helpers import PASSWORD
from tests.live import live_server, smtp_env

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
# Runs of English words a Japanese page may still show: the brand, and what the user typed.
ALLOWED_ENGLISH = re.compile(r"Latchkey|alice(\.new)?@example\.com|Asia/Tokyo|UTC|JST")


async def mail_to(smtp, address: str):
    for _ in range(200):
        messages = smtp.to(address)
        if messages:
            return messages[-1]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no email to {address} arrived")


async def test_switch_to_japanese_then_change_the_email(
    browser, browser_settings, create_user, smtp
):
    create_user("alice")
    with live_server(browser_settings, **smtp_env(smtp.port)) as server:
        context = await browser.new_context(locale="en-US")
        page = await context.new_page()
        await page.goto(f"{server}/login")
        await expect(page.locator("html")).to_have_attribute("lang", "en")
        await page.fill("#username", "alice")
        await page.fill("#password", PASSWORD)
        await page.get_by_role("button", name="Sign in", exact=True).click()
        await expect(page).to_have_url(f"{server}/account")

        await page.get_by_label("Language of pages, messages and emails").select_option("ja")
        await page.locator("#language").get_by_role("button", name="Save").click()
        await expect(page.locator("html")).to_have_attribute("lang", "ja")
        await expect(page.get_by_role("heading", level=1)).to_have_text("個人情報")
        await expect(page.locator("#language").get_by_role("status")).to_have_text("保存しました。")

        # The whole page reads in Japanese: no English words left but names and addresses.
        main = await page.locator("body").inner_text()
        english = [
            w
            for w in re.findall(
                r"[A-Za-z][A-Za-z'’-]+(?: [A-Za-z][A-Za-z'’-]+)+", ALLOWED_ENGLISH.sub("", main)
            )
        ]
        assert english == [], english
        assert JAPANESE.search(main)
        await page.screenshot(path=screenshot_path("account-page-japanese"), full_page=True)

        details = page.locator("#account_details")
        await details.get_by_label("メールアドレス", exact=True).fill("alice.new@example.com")
        # Just signed in, so re-authenticated: nothing more to type for the new address.
        await expect(details.locator("[data-reauthentication-needed]")).to_have_count(0)
        await expect(details.locator("input[type=password]")).to_have_count(0)
        await details.get_by_role("button", name="保存").click()
        await expect(details.get_by_role("status")).to_contain_text(
            "新しいメールアドレスにコードを送りました"
        )

        message = await mail_to(smtp, "alice.new@example.com")
        assert message["Subject"] == "新しいメールアドレスの確認"
        body = smtp.text(message)
        code = re.search(r"認証コードは (\d{6}) です", body).group(1)
        await details.get_by_label(re.compile("に送信したコード")).fill(code)
        await details.get_by_role("button", name="新しいアドレスを確認").click()
        await expect(details.get_by_role("status")).to_contain_text(
            "メールアドレスは alice.new@example.com になりました。"
        )
        notice = await mail_to(smtp, "alice@example.com")
        assert notice["Subject"] == "メールアドレスが変更されました"

        # Another device, with an English browser, gets the chosen Japanese too.
        other = await browser.new_context(locale="en-US")
        second = await other.new_page()
        await second.goto(f"{server}/login")
        await expect(second.locator("html")).to_have_attribute("lang", "en")
        await second.fill("#username", "alice")
        await second.fill("#password", PASSWORD)
        await second.get_by_role("button", name="Sign in", exact=True).click()
        await expect(second.locator("html")).to_have_attribute("lang", "ja")
        await other.close()
        await context.close()
