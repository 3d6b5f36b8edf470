"""docs/install.md, run as written: the guide cannot rot.

The shell blocks marked ``<!-- ci: run -->`` run in order, as root, on a
fresh clone of this checkout, against a test Dovecot (IMAPS, private CA) and
a test SMTP server (STARTTLS + AUTH). Only what the guide's last section
lists is changed: the install directories (moved under a temporary prefix),
the ``# CHANGE`` lines of the config, the ``CHANGE-ME`` passwords and the
roster. The ``<!-- ci: packages -->`` block is checked, not run (no network):
every package it installs must be installed here.

The guide's ``pip install`` gets the pinned wheels from PyPI, or from the
office's mirror: with ``HOSO_WHEELHOUSE`` set to a directory of wheels (made by
``.ci/run`` with ``pip wheel -c constraints.txt``, the same pins from PyPI), that
directory is the mirror (``PIP_NO_INDEX``, ``PIP_FIND_LINKS``: pip's own
environment, the command stays as written), and the test waits on no network.
"""
from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import tempfile
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from . import docfactory as df
from . import mailfactory as mf
from .configs import ROOT
from .hostile import SCHOOLS, school_doc

VN = ZoneInfo("Asia/Ho_Chi_Minh")

pytestmark = [pytest.mark.slow, pytest.mark.imap]

GUIDE = ROOT / "docs" / "install.md"
MARK = re.compile(r"<!-- ci: (run|packages) -->\n```sh\n(.*?)\n```", re.S)
MOVED = ("/usr/local/bin/hoso-bot", "/var/backups/hoso-bot", "/var/lib/hoso-bot", "/etc/hoso-bot", "/opt/hoso-bot")
SMTP_AUTH = ("bot", "smtp-pw-5Hn2")


def blocks(text: str) -> list[tuple[str, str]]:
    """The marked blocks, in order: (kind, shell text)."""
    return MARK.findall(text)


def relocate(script: str, prefix: Path) -> str:
    for path in MOVED:
        script = script.replace(path, str(prefix / path.lstrip("/")))
    return script


def fill_in(script: str, values: dict[str, str], passwords: dict[str, str]) -> tuple[str, set[str]]:
    """Replace the value of each ``key = value  # CHANGE`` line (by section.key)
    and each ``NAME='CHANGE-ME'``; returns the script and the keys replaced."""
    out, section, used = [], "", set()
    for line in script.splitlines():
        if m := re.match(r"\[(\w+)\]$", line):
            section = m.group(1)
        if m := re.match(r"(\w+) = .*?\s+# CHANGE\b", line):
            key = f"{section}.{m.group(1)}"
            line, used = f"{m.group(1)} = {values[key]}", used | {key}
        if m := re.match(r"(\w+)='CHANGE-ME'$", line):
            line, used = f"{m.group(1)}='{passwords[m.group(1)]}'", used | {m.group(1)}
        out.append(line)
    return "\n".join(out), used


def test_the_guide_has_what_an_it_person_needs():
    text = GUIDE.read_text(encoding="utf-8")
    kinds = [kind for kind, _ in blocks(text)]
    assert kinds.count("packages") == 1 and kinds.count("run") >= 8
    for needed in ("git archive", "python3-venv", "tesseract-ocr-vie", "catdoc", "-c /opt/hoso-bot/constraints.txt",
                   "install -m 0600 -o root -g root", "check-config --connect", "systemctl enable --now hoso-bot",
                   "hoso-bot backup", "Restore", "Upgrade", "sudo -i"):
        assert needed in text, needed
    commands = "\n".join(script for _, script in blocks(text))
    assert "sudo " not in commands and "python3 -m bot" not in commands  # root-only Debian; the installed command
    assert "\r" not in text


def test_the_vietnamese_guide_has_the_same_commands_so_it_is_tested_too():
    fence = re.compile(r"```sh\n(.*?)\n```", re.S)
    english = fence.findall(GUIDE.read_text(encoding="utf-8"))
    vietnamese = (ROOT / "docs" / "cai-dat.md").read_text(encoding="utf-8")
    assert fence.findall(vietnamese) == english
    assert "ở trên" not in vietnamese and "phía trên" not in vietnamese  # complete on its own
    for word in ("Cài đặt", "máy chủ", "mật khẩu", "Kiểm tra trước khi bật", "Sao lưu", "Khôi phục", "Nâng cấp"):
        assert word in vietnamese, word


@pytest.mark.skipif(os.geteuid() != 0, reason="the guide is for root (useradd, runuser)")
@pytest.mark.starts_first  # a venv and a pip install: about a minute from PyPI, less from HOSO_WHEELHOUSE
def test_the_install_guide_runs_verbatim_against_test_servers(dovecot_factory, smtp_server_factory):
    dovecot = dovecot_factory(users={"office": "imap-pw-8Tq4"}, tls=True)
    smtp = smtp_server_factory(auth=SMTP_AUTH, starttls=True)
    # one school's Tờ trình already waits in the mailbox: the first poll by hand counts it and sends the receipt
    sent = (datetime.now(timezone.utc) - timedelta(minutes=15)).astimezone(VN).replace(microsecond=0)
    sender, name, _, _ = SCHOOLS[0]
    sender = sender.replace(".example", ".edu.vn")  # as in the office's roster below
    doc = dataclasses.replace(school_doc(0, 0), place_date=f"Quận 12, ngày {sent:%d} tháng {sent:%m} năm {sent:%Y}")
    dovecot.append("INBOX", mf.build("gmail", sender=sender, sender_name=name, message_id="<guide1@hcm.edu.vn>",
                                     date=format_datetime(sent), files=[mf.File("Tờ trình.pdf", df.official_pdf([doc]))]),
                   sent)
    base = Path(tempfile.mkdtemp(prefix="hoso-guide-"))
    try:
        base.chmod(0o755)  # the service user must reach its files, as under / on a server
        prefix, work = base / "root", base / "work"
        # a fresh copy of the checkout (its committed HEAD, as `git archive` takes it)
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(work)], check=True, timeout=120)
        roster = (ROOT / "rules" / "schools.csv").read_text(encoding="utf-8")
        (work / "schools.csv").write_text(re.sub(r"\.example\b", ".edu.vn", roster), encoding="utf-8")
        ca = base / "ca.pem"  # both test servers' CA, trusted through SSL_CERT_FILE as a system CA would be
        ca.write_bytes(Path(dovecot.cafile).read_bytes() + Path(smtp.cafile).read_bytes())
        ca.chmod(0o644)
        values = {
            "mailbox.host": '"127.0.0.1"', "mailbox.port": str(dovecot.imaps_port), "mailbox.security": '"ssl"',
            "mailbox.username": f'"{dovecot.user}"', "mailbox.trusted_authserv_ids": '["mx.pgd-q12.edu.vn"]',
            "smtp.host": '"127.0.0.1"', "smtp.port": str(smtp.port), "smtp.security": '"starttls"',
            "smtp.username": f'"{SMTP_AUTH[0]}"', "smtp.from_address": '"hoso@pgd-q12.edu.vn"',
            "smtp.from_name": '"Phòng GD&ĐT Quận 12"', "coordinator.emails": '["coordinator@pgd-q12.edu.vn"]',
        }
        passwords = {"BOT_IMAP_PASSWORD": dovecot.password, "BOT_SMTP_PASSWORD": SMTP_AUTH[1]}
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}  # the installed code, not ours
        env.update(PATH=f"{prefix / 'usr/local/bin'}:{env['PATH']}", SSL_CERT_FILE=str(ca), LC_ALL="C.UTF-8")
        if wheelhouse := os.environ.get("HOSO_WHEELHOUSE"):  # the office's mirror, see above
            env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=wheelhouse)
        (prefix / "usr/local/bin").mkdir(parents=True)
        (prefix / "var/backups").mkdir(parents=True)
        text = GUIDE.read_text(encoding="utf-8")
        used: set[str] = set()
        outputs = []
        for kind, script in blocks(text):
            if kind == "packages":
                packages = re.search(r"apt-get install -y (.*)", script).group(1).split()
                missing = [p for p in packages if subprocess.run(
                    ["dpkg-query", "-W", "-f=${Status}", p], capture_output=True, text=True).stdout
                    != "install ok installed"]
                assert missing == [], f"the guide's apt line names packages not installed here: {missing}"
                continue
            script, replaced = fill_in(relocate(script, prefix), values, passwords)
            used |= replaced
            done = subprocess.run(["sh", "-e", "-c", script], cwd=work, env=env, capture_output=True, text=True,
                                  timeout=600, stdin=subprocess.DEVNULL)
            outputs.append(f"$ {script}\n{done.stdout}{done.stderr}")
            assert done.returncode == 0, "\n".join(outputs)
        assert used == set(values) | set(passwords)  # every placeholder was in the guide, none left over
        log = "\n".join(outputs)
        assert re.search(r"all \d+ checks passed", log), log
        assert "FAIL" not in log and "hoso-bot is installed" in log
        state = prefix / "var/lib/hoso-bot"
        assert state.stat().st_uid != 0 and (state / "bot.sqlite3").stat().st_uid == state.stat().st_uid
        assert list((prefix / "var/backups/hoso-bot").glob("state-*.tar.gz"))
        assert oct((prefix / "etc/hoso-bot/hoso-bot.env").stat().st_mode & 0o777) == "0o600"
        assert "folder 'INBOX' has 1 message(s)" in log and "1 new message(s)" in log, log
        receipts = [m for m in smtp.messages if b"X-Bot-Kind: receipt" in m.raw]
        assert len(receipts) == 1 and sender in receipts[0].rcpt_tos, log  # the school's receipt, through STARTTLS
        assert receipts[0].tls and receipts[0].auth_user == SMTP_AUTH[0]
    finally:
        shutil.rmtree(base, ignore_errors=True)
