"""The alert rules shipped in deploy/prometheus: valid for Prometheus, and each fires on a
synthetic series (latchkey-alerts.test.yml), checked with promtool (the Debian package
prometheus; CI installs it, no Prometheus server runs)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

RULES = Path(__file__).resolve().parent.parent / "deploy" / "prometheus"
ALERTS = RULES / "latchkey-alerts.yml"
UNIT_TESTS = RULES / "latchkey-alerts.test.yml"


def _promtool() -> str:
    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("CI") == "true":
            pytest.fail("promtool is missing (the Debian package prometheus)")
        pytest.skip("promtool is not installed (the Debian package prometheus)")
    return promtool


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([_promtool(), *args], cwd=RULES, capture_output=True, text=True)


def test_promtool_accepts_the_rules():
    checked = _run("check", "rules", ALERTS.name)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout


def test_every_alert_fires_on_its_synthetic_series():
    tested = _run("test", "rules", UNIT_TESTS.name)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_has_a_unit_test_where_it_fires():
    alerts = set(re.findall(r"^\s*- alert: (\w+)$", ALERTS.read_text(), re.MULTILINE))
    # An alertname whose expected alerts are not the empty list: a case where it fires.
    firing = set(
        re.findall(r"alertname: (\w+)\n\s*exp_alerts:\n", UNIT_TESTS.read_text(), re.MULTILINE)
    )
    assert len(alerts) == 7
    assert alerts == firing
