"""The Japanese catalog is complete, keeps every placeholder, and matches the code.

Message ids are extracted from the code and templates the way `make messages` does; a text
added without a translation, or a translation that drops a value, fails here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from backend.kernel import i18n
from backend.kernel.client_info import describe_user_agent

ROOT = Path(__file__).parent.parent
CATALOG = i18n.LOCALE_DIR / "ja" / "LC_MESSAGES" / "messages.po"
TEMPLATE = i18n.LOCALE_DIR / "messages.pot"
# As in the Makefile's `messages` rule.
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "N_": None,
    "DomainError": (2,),
    "Problem": (2,),
    "RateLimited": (2,),
}
PLACEHOLDER = re.compile(r"\{\w+\}|%\(\w+\)s")
TAG = re.compile(r"</?\w+")


def _catalog(path: Path):
    with path.open("rb") as file:
        return read_po(file)


def _ids(catalog) -> set[str]:
    return {
        message.id if isinstance(message.id, str) else message.id[0]
        for message in catalog
        if message.id
    }


def _extracted() -> set[str]:
    ids = set()
    for folder in ("backend", "web"):
        found = extract_from_dir(
            ROOT / folder,
            method_map=[("**/templates/**.html", "jinja2"), ("**.py", "python")],
            options_map={
                "**/templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}
            },
            keywords=KEYWORDS,
            directory_filter=lambda path: (
                not any(
                    part in {"node_modules", "migrations", "__pycache__"}
                    for part in Path(path).parts
                )
            ),
        )
        for _file, _line, message, _comments, _context in found:
            ids.add(message if isinstance(message, str) else message[0])
    return ids


def test_the_catalog_has_every_message_the_code_and_templates_use():
    extracted = _extracted()
    assert len(extracted) > 300  # the extraction itself found the texts
    assert extracted == _ids(_catalog(TEMPLATE)), "run `make messages` and translate"
    assert extracted == _ids(_catalog(CATALOG)), "run `make messages` and translate"


def test_every_message_has_a_japanese_translation():
    untranslated = [
        message.id
        for message in _catalog(CATALOG)
        if message.id
        and not all(message.string if isinstance(message.string, tuple) else [message.string])
    ]
    assert untranslated == []


def test_translations_keep_every_placeholder_and_tag():
    broken = []
    for message in _catalog(CATALOG):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        tags = sorted(TAG.findall(ids[0]))
        for string in strings:
            if set(PLACEHOLDER.findall(string)) != wanted or sorted(TAG.findall(string)) != tags:
                broken.append((ids[0], string))
    assert broken == []


def test_translated_texts_read_in_japanese():
    """Every translation is Japanese text (not the English copied), with the usual terms."""
    catalog = _catalog(CATALOG)
    japanese = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
    english_left = [
        message.id
        for message in catalog
        if message.id
        and japanese.search(message.id if isinstance(message.id, str) else message.id[0]) is None
        and re.search(r"[A-Za-z]{3}", PLACEHOLDER.sub("", str(message.id)))
        and not japanese.search(str(message.string))
    ]
    assert english_left == []
    assert catalog["Two-factor authentication is off."].string == "二要素認証はオフです。"
    assert catalog["Authenticator app"].string == "認証アプリ"
    assert catalog["Passkey"].string == "パスキー"
    assert catalog["Recovery codes"].string == "リカバリーコード"
    assert catalog["Security log"].string == "セキュリティログ"


def test_messages_are_translated_with_their_values():
    wait = i18n.translate(
        "ja", "Too many failed attempts. Try again in {wait}.", {"wait": i18n.Duration(120)}
    )
    assert wait == "失敗が多すぎます。2 分後にもう一度お試しください。"
    english = i18n.translate(
        "en", "Too many failed attempts. Try again in {wait}.", {"wait": i18n.Duration(30)}
    )
    assert english == "Too many failed attempts. Try again in 30 seconds."


def test_a_language_is_chosen_from_the_choice_then_the_browser():
    assert i18n.choose(None, "ja,en;q=0.8") == "ja"
    assert i18n.choose(None, "fr-CH, fr;q=0.9, ja;q=0.5, en;q=0.7") == "en"
    assert i18n.choose(None, "de") == "en"
    assert i18n.choose(None, "ja;q=0, en") == "en"
    assert i18n.choose("en", "ja") == "en"
    assert i18n.choose("ja", "") == "ja"
    assert i18n.choose("xx", "ja-JP") == "ja"


def test_every_message_a_domain_error_can_carry_is_in_the_catalog():
    """Texts handed to an error's constructor, also through super().__init__, are
    extracted: a message the catalog lacks would reach a Japanese reader in English."""
    known = _ids(_catalog(CATALOG))
    missing = []
    for path in (ROOT / "backend").rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or len(node.args) < 2:
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in {"DomainError", "Problem", "__init__", "RateLimited"}:
                continue
            for argument in node.args[1:2]:
                texts = [argument] if isinstance(argument, ast.Constant) else []
                texts += [a for a in getattr(argument, "args", []) if isinstance(a, ast.Constant)]
                for text in texts:
                    value = text.value
                    code = isinstance(value, str) and re.fullmatch(r"[A-Z_]+", value)
                    if isinstance(value, str) and not code and value not in known:
                        missing.append(f"{path.name}:{node.lineno} {value}")
    assert missing == []


def test_browsers_are_described_in_the_reader_language():
    firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
    assert describe_user_agent(firefox, "en") == "Firefox on Windows"
    assert describe_user_agent(firefox, "ja") == "Firefox（Windows）"
    assert describe_user_agent("curl/8.5", "ja") in {"curl", "不明なブラウザー"}
    assert describe_user_agent("", "ja") == "不明なブラウザー"
