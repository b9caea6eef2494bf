"""``platform-admin referrals check`` as a person runs it (a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from tests.data.factories import insert_user
from tests.data.referral_factories import insert_code, insert_referral

ROOT = Path(__file__).parents[2]


def _check(url) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLATFORM_ADMIN_")}
    return subprocess.run([sys.executable, "-m", "desktop.cli", "referrals", "check",
                           "--database-url", url.render_as_string(hide_password=False)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_the_demo_data_is_clean(demo_db_url):
    done = _check(demo_db_url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "agree" in done.stdout


def test_a_planted_mismatch_is_named_by_email_with_exit_1(engine, db_url):
    ann = insert_user(engine, "ann@example.com", "Ann Referrer")
    bob = insert_user(engine, "bob@example.com", "Bob Friend")
    insert_code(engine, ann, "ANNA1")
    insert_referral(engine, ann, bob, "ANNA1")
    assert _check(db_url).returncode == 0
    with engine.begin() as conn:
        conn.execute(text("UPDATE users SET referred_by = NULL WHERE id = :u"), {"u": bob})
    done = _check(db_url)
    assert done.returncode == 1
    assert "bob@example.com: referred_by None but" in done.stdout
    assert "ann@example.com" not in done.stdout
