"""The command line on the bundled example mailbox: the status table, and the
coordinator's corrections (each changes the status as asked, and none is lost
when the whole mailbox is processed again: ``requeue --all`` then ``poll``,
as after a rules change)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.cli import main

from .configs import write_config

ROOT = Path(__file__).resolve().parents[1]
NOW = ["--now", "2023-10-16T08:00"]


@pytest.fixture
def config(tmp_path) -> str:
    shutil.copytree(ROOT / "examples" / "inbox", tmp_path / "inbox")
    return str(write_config(tmp_path, f'source = "folder"\npath = "{tmp_path / "inbox"}"'))


def cli(config: str, *args: str) -> int:
    return main(["--config", config, *NOW, *args])


def status(config: str, capsys) -> dict:
    capsys.readouterr()
    assert cli(config, "status", "--json") == 0
    return json.loads(capsys.readouterr().out)


def test_corrections_change_the_status_and_survive_reprocessing_the_mailbox(config, capsys):
    assert cli(config, "poll") == 0
    before = status(config, capsys)
    schools = {s["code"]: s for s in before["schools"]}
    # every document received on time, but as unsigned Word files: not complete until the official copies come
    # (the shipped rules require them, issue 16)
    nguyen_hien = schools["thcs-nguyen-hien"]
    assert all(nguyen_hien["documents"][d]["status"] == "on_time" for d in ("to_trinh", "bao_cao", "bien_ban"))
    assert nguyen_hien["documents"]["to_trinh"]["official"] is False and not nguyen_hien["complete"]
    assert nguyen_hien["documents"]["to_trinh"]["evidence"]["problems"] == [
        "bản Word chưa ký: đề nghị gửi bản scan có chữ ký, đóng dấu hoặc bản ký số"]
    assert not schools["mn-hoa-sen"]["exempt"]
    # TH Trần Quốc Toản sent its dossier as digitally signed PDFs: complete, nothing to ask
    tran_quoc_toan = schools["th-tran-quoc-toan"]
    assert tran_quoc_toan["complete"]
    assert all(tran_quoc_toan["documents"][d]["official"] is True for d in ("to_trinh", "bao_cao", "bien_ban"))
    assert sum(s["complete"] for s in before["schools"]) == 4
    (review,) = before["review"]  # NT Búp Bê wrote "attached" and attached nothing
    assert review["school"] == "nt-bup-be" and review["filename"] == ""
    capsys.readouterr()
    assert cli(config, "export") == 0
    (to_trinh,) = [e["ref"] for e in json.loads(capsys.readouterr().out)
                   if e["school"] == "thcs-nguyen-hien" and e["doc_types"] == ["to_trinh"]]

    for args in (["reject", to_trinh, "--why", "bản nháp, trường gửi nhầm"],  # THCS Nguyễn Hiền's only Tờ trình
                 ["reject", review["ref"], "--why", "thư không có tệp; đã gọi điện"],
                 ["received", "nt-bup-be", "to_trinh", "--at", "2023-10-09", "--why", "nộp bản giấy"],
                 ["exempt", "mn-hoa-sen", "--why", "trường sáp nhập"],
                 ["extend", "th-kim-dong", "2023-10-20", "--why", "trường sửa chữa"]):
        assert cli(config, *args, "--who", "mai") == 0, args
    after = status(config, capsys)
    schools = {s["code"]: s for s in after["schools"]}
    assert schools["thcs-nguyen-hien"]["documents"]["to_trinh"]["status"] == "missing"
    assert not schools["thcs-nguyen-hien"]["complete"]
    assert schools["nt-bup-be"]["documents"]["to_trinh"]["status"] == "on_time"
    assert schools["nt-bup-be"]["documents"]["to_trinh"]["source"] == "paper"
    assert schools["mn-hoa-sen"]["exempt"]
    assert schools["th-kim-dong"]["deadline"] == "2023-10-20T23:59:59+07:00" and schools["th-kim-dong"]["extended"]
    assert after["review"] == []

    # a rules change: every stored message is classified again; the corrections still hold
    assert cli(config, "requeue", "--all") == 0
    assert cli(config, "poll") == 0
    assert status(config, capsys) == after


def test_the_status_table_does_not_shout_about_optional_documents(config, capsys):
    assert cli(config, "poll") == 0
    capsys.readouterr()
    assert cli(config, "status") == 0
    lines = capsys.readouterr().out.splitlines()
    header = next(line for line in lines if line.startswith("school"))
    assert "ke_hoach (optional)" in header
    (hoa_mai,) = [line for line in lines if line.startswith("MN Hoa Mai ")]
    cells = hoa_mai.split()
    # Biên bản is required and late: MISSING; the optional Kế hoạch was not sent: a quiet "-"
    assert cells[-3:] == ["MISSING", "-", "no"], hoa_mai
    assert any(line.startswith("✓ on time") and "- = optional and not received" in line for line in lines)
    # its Tờ trình and Báo cáo came as unsigned Word files: received on time, no official copy yet ("!")
    assert cells[-11:-3] == ["✓", "04/10", "08:07", "!", "✓", "04/10", "08:07", "!"], hoa_mai
    assert any("! = no official copy yet" in line for line in lines)
