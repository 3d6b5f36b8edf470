"""The performance benchmark: one command, a real Dovecot, a realistic mailbox.

    python3 -m bench.run                      # N = 2,000 (needs root: Dovecot)
    python3 -m bench.run --messages 400 --no-naive --ocr-messages 0 --big-mb 0   # a quick look
    python3 -m bench.run --messages 300 --ocr-messages 300 --small 0 --new 0 --big-mb 0 --label ocr  # issue 15
    python3 -m bench.run --tree /tmp/base ...   # the same for another checkout (git archive REV | tar -x -C /tmp/base)
    python3 -m bench.run --messages 400 --official-share 0.25 --no-naive --ocr-messages 0 --big-mb 0 --small 0 \
        --new 0 --idle-runs 0 --label official     # issue 16: a quarter official-copy mail (signed PDFs...)

What it does, in one run (see README, "Performance"):

1. generates the labelled test corpus (``tests.corpus.generate``: PDFs, DOCX,
   TCVN3 DOCX, scanned PDFs, phone photos, ZIPs, forwards, auto-replies...)
   into ``bench/out/corpus-N-sS`` (reused when already there) and fills a
   private Dovecot with it (INTERNALDATE from the corpus);
2. the naive baseline (``bench/naive.py``) on the whole folder;
3. the bot's first poll of the whole folder, as its own process
   (``python -m bot --config X poll``), with OCR turned off
   (``[extraction] ocr = "off"``): wall time, messages per second, peak
   resident memory of the process tree (the bot, the forkserver and the
   extraction workers, sampled every 20 ms from /proc);
4. the same first poll on the first ``--small`` messages in another folder;
5. polls with no new mail at both sizes, timed inside the process (what the
   worker, ``python -m bot run``, pays every few minutes) and as a whole
   ``python -m bot poll`` command (interpreter start-up included);
6. a poll with ``--new`` new messages appended to the big folder;
7. one message with a ``--big-mb`` MB attachment (``max_message_mb`` raised
   so that it is downloaded), for peak memory;
8. with OCR on, ``--ocr-messages`` messages spread over the corpus (all of
   it when the number is at least ``--messages``): messages per second,
   pages OCR'd, seconds per page (wall and CPU), peak tree memory, and when
   the messages that need no OCR were recorded compared with the ones that
   did (the mailbox must keep flowing);
9. accuracy: the labelled corpus scores the first poll (OCR off) and the
   OCR poll (school and type right, review rate: ``bot.evaluate.classification.score``),
   so that speed never buys errors;
10. idle commands as whole processes (``status``, ``health``,
   ``check-config``, ``poll`` with no new mail): median wall time of
   ``--idle-runs`` runs each, Python's own start-up (``python -c pass``)
   beside them.

Results are printed and written to ``bench/out/results-N.json``.
Needs root (Dovecot), tesseract with Vietnamese data for step 8.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
NOW = "2023-10-20T08:00"  # after the deadline: every receipt is due, as in a real season
PAGE = os.sysconf("SC_PAGE_SIZE")
MiB = 1024 * 1024


# --------------------------------------------------------------------------
# Corpus and server


def ensure_corpus(n: int, seed: int, scans: bool = True, preset: str = "mix") -> Path:
    """The generated corpus of ``n`` messages (generated once, then reused)."""
    out = OUT / f"corpus-{n}-s{seed}{'' if scans else '-noscans'}{'' if preset == 'mix' else '-' + preset}"
    done = out / ".complete"
    if done.exists():
        return out
    if out.exists():
        shutil.rmtree(out)
    print(f"generating {n} messages (seed {seed}, preset {preset}) into {out} ...", flush=True)
    cmd = [sys.executable, "-m", "tests.corpus.generate", "--out", str(out), "--seed", str(seed),
           "--messages", str(n), "--preset", preset] + ([] if scans else ["--no-scans"])
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    done.write_text("ok\n")
    return out


def ensure_official_mix(n: int, seed: int, share: float) -> Path:
    """``n`` messages: the usual mix, with ``share`` of them replaced by the ``official`` preset's
    submissions (digitally signed PDFs, some changed after signing, Word and PDF drafts, scans and
    photos with and without a seal), interleaved by receipt time; generated once."""
    k = max(1, round(n * share))
    out = OUT / f"corpus-{n}-s{seed}-official{k}"
    done = out / ".complete"
    if done.exists():
        return out
    if out.exists():
        shutil.rmtree(out)
    parts = [ensure_corpus(n - k, seed), ensure_corpus(k, seed, preset="official")]
    entries = []
    for corpus in parts:
        dates = json.loads((corpus / "internaldates.json").read_text("utf-8"))
        entries += [(datetime.fromisoformat(when), str(corpus), name) for name, when in dates.items()]
    entries.sort()
    out.mkdir(parents=True)
    labels, dates, sources = {}, {}, {}
    width = max(4, len(str(n)))
    for number, (when, corpus, name) in enumerate(entries, start=1):
        target = f"{number:0{width}d}.eml"
        shutil.copyfile(Path(corpus) / name, out / target)
        if corpus not in sources:
            sources[corpus] = json.loads((Path(corpus) / "labels.json").read_text("utf-8"))
        labels[target] = sources[corpus][name]
        dates[target] = when.isoformat()
    (out / "labels.json").write_text(json.dumps(labels, ensure_ascii=False, indent=1), "utf-8")
    (out / "internaldates.json").write_text(json.dumps(dates, indent=1), "utf-8")
    done.write_text("ok\n")
    return out


def official_share_figures(corpus: Path) -> dict:
    """What the official-copy messages of a corpus hold (documents by variant; signed PDFs)."""
    labels = json.loads((corpus / "labels.json").read_text("utf-8"))
    docs = [e for lab in labels.values() for e in lab["attachments"]]
    official = [e for e in docs if "variant" in e]
    variants: dict[str, int] = {}
    for e in official:
        variants[e["variant"]] = variants.get(e["variant"], 0) + 1
    return {"messages": sum(1 for lab in labels.values() if lab["kind"] == "official"), "documents": len(docs),
            "signed_pdfs": sum(1 for e in official if e.get("signature")), "variants": variants}


def corpus_names(corpus: Path, limit: int | None = None) -> list[str]:
    """The message files of the corpus, in the order they are appended."""
    return sorted(json.loads((corpus / "internaldates.json").read_text("utf-8")))[:limit]


def corpus_messages(corpus: Path, limit: int | None = None, names: list[str] | None = None) -> list[tuple[bytes, datetime]]:
    dates = json.loads((corpus / "internaldates.json").read_text("utf-8"))
    names = corpus_names(corpus, limit) if names is None else names
    return [((corpus / name).read_bytes(), datetime.fromisoformat(dates[name])) for name in names]


def spread(items: list, count: int) -> list:
    """``count`` items taken at even steps over the whole list, in order."""
    if count >= len(items):
        return list(items)
    return [items[i * len(items) // count] for i in range(count)]


def big_message(megabytes: int) -> bytes:
    """A mail with one PDF of about ``megabytes`` MB: pages of incompressible
    photo-like noise, as a phone 'scan' of a thick dossier is."""
    import io

    from PIL import Image

    page = Image.frombytes("L", (2480, 3508), os.urandom(2480 * 3508))  # A4 at 300 dpi, gray
    one = io.BytesIO()
    page.save(one, format="JPEG", quality=90)
    count = max(1, round(megabytes * MiB / len(one.getvalue())))
    buf = io.BytesIO()
    page.save(buf, format="PDF", save_all=True, append_images=[page] * (count - 1), quality=90)
    data = buf.getvalue()
    msg = EmailMessage()
    msg["From"] = "thcsnguyenhien.q12@hcm-edu.example"
    msg["To"] = "hoso@pgd-q12.example"
    msg["Subject"] = "Gửi hồ sơ ANTQ (bản scan)"
    msg["Date"] = "Thu, 05 Oct 2023 09:29:50 +0700"
    msg["Message-ID"] = "<big-scan-1@hcm-edu.example>"
    msg.set_content("Kính gửi Phòng GD&ĐT, trường gửi hồ sơ bản scan.")
    msg.add_attachment(data, maintype="application", subtype="pdf", filename="Ho so ANTQ scan.pdf")
    return msg.as_bytes()


def start_dovecot(workdir: Path):
    sys.path.insert(0, str(ROOT))
    from tests.servers import Dovecot

    reason = Dovecot.unavailable_reason()
    if reason:
        raise SystemExit(f"cannot run the benchmark: {reason}")
    return Dovecot(workdir / "dovecot").start()


class Tree:
    """The checkout whose bot is measured: this one, or an older one given with
    ``--tree`` (for before/after figures). An older bot that has no
    ``[extraction] ocr`` key gets OCR turned off by hiding tesseract from PATH."""

    def __init__(self, root: Path, workdir: Path):
        self.root = root
        # bot/config.py, or the bot/config/ package it became (commit e83c0d5)
        sources = [root / "bot" / "config.py"] if (root / "bot" / "config.py").exists() \
            else sorted((root / "bot" / "config").glob("*.py"))
        config_py = "".join(p.read_text("utf-8") for p in sources)
        self.has_ocr_key = '"extraction"' in config_py
        self.has_max_mb = "max_message_mb" in config_py
        self.shim = workdir / "no-tesseract"
        self.shim.mkdir(exist_ok=True)
        for tool in ("catdoc", "soffice", "libreoffice"):
            found = shutil.which(tool)
            if found and not (self.shim / tool).exists():
                (self.shim / tool).symlink_to(found)

    def env(self, ocr: str) -> dict:
        env = dict(os.environ, PYTHONPATH=str(self.root))
        if ocr == "off" and not self.has_ocr_key:
            env["PATH"] = f"{self.shim}:{Path(sys.executable).parent}"
        return env


def offline_sections(root: Path, state: Path) -> str:
    """The config sections every bench run shares: no sending, the sample
    coordinator, the rules and templates of the tree ``root``, the state dir."""
    return f"""
[smtp]
enabled = false
from_address = "hoso-bot@pgd-q12.example"

[coordinator]
emails = ["nthmai.q12@tphcm-gov.example"]

[paths]
rules = "{root / 'rules'}"
templates = "{root / 'templates'}"
state = "{state}"
"""


def write_config(workdir: Path, name: str, dovecot, folder: str, *, tree: Tree, ocr: str = "off",
                 max_message_mb: int = 60) -> Path:
    password = workdir / "imap-password"
    if not password.exists():
        password.write_text(dovecot.password + "\n")
        password.chmod(0o600)
    state = workdir / f"state-{name}"
    config = workdir / f"config-{name}.toml"
    config.write_text(f"""
[mailbox]
source = "imap"
host = "{dovecot.host}"
port = {dovecot.port}
security = "none"
username = "{dovecot.user}"
password_file = "{password}"
folder = "{folder}"
{f"max_message_mb = {max_message_mb}" if tree.has_max_mb else ""}
""" + offline_sections(tree.root, state) + (f"""
[extraction]
ocr = "{ocr}"
""" if tree.has_ocr_key else ""), encoding="utf-8")
    CONFIG_OCR[config] = ocr
    return config


CONFIG_OCR: dict[Path, str] = {}


# --------------------------------------------------------------------------
# Measuring a process


TICK = os.sysconf("SC_CLK_TCK")


def _process_table() -> tuple[dict[int, list[int]], dict[int, int]]:
    """(parent pid -> child pids, pid -> CPU ticks used so far) of every process."""
    children: dict[int, list[int]] = {}
    ticks: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2:].split()
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        ticks[pid] = int(fields[11]) + int(fields[12])  # utime + stime
    return children, ticks


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return int(fh.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


class TreeSampler(threading.Thread):
    """Samples the resident memory of a process and all its descendants:
    the known tree every 50 ms, the whole process table every 250 ms (new
    workers, tesseract), so that the sampling itself costs little CPU."""

    def __init__(self, pid: int, every: float = 0.05, db: Path | None = None):
        super().__init__(daemon=True)
        self.pid, self.every, self.db = pid, every, db
        self.peak_total = self.peak_parent = self.peak_child = 0
        self.max_processes = 0
        self.cpu_ticks: dict[int, int] = {}  # pid -> CPU ticks, last seen (exited processes keep theirs)
        self.tree: list[int] = [pid]
        self.done_at: dict[str, float] = {}  # message_id -> seconds after start when it was recorded
        self._halt = threading.Event()
        self.start_time = time.perf_counter()

    def run(self) -> None:
        last_db = last_scan = 0.0
        while not self._halt.is_set():
            now = time.perf_counter()
            if now - last_scan >= 0.25:
                self._scan()
                last_scan = now
            self._sample()
            if self.db is not None and now - last_db >= 0.2:
                self._sample_db(now - self.start_time)
                last_db = now
            self._halt.wait(self.every)

    def _scan(self) -> None:
        children, ticks = _process_table()
        tree, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo.extend(children.get(pid, ()))
        self.tree = tree
        for pid in tree:
            if pid in ticks:
                self.cpu_ticks[pid] = ticks[pid]

    def _sample(self) -> None:
        sizes = {pid: _rss(pid) for pid in self.tree}
        for pid in self.tree:
            try:
                with open(f"/proc/{pid}/stat", "rb") as fh:
                    stat = fh.read()
                fields = stat[stat.rindex(b")") + 2:].split()
                self.cpu_ticks[pid] = int(fields[11]) + int(fields[12])
            except (OSError, ValueError, IndexError):
                pass
        self.peak_total = max(self.peak_total, sum(sizes.values()))
        self.peak_parent = max(self.peak_parent, sizes.get(self.pid, 0))
        others = [v for p, v in sizes.items() if p != self.pid]
        self.peak_child = max([self.peak_child, *others])
        self.max_processes = max(self.max_processes, sum(1 for v in sizes.values() if v))

    def _sample_db(self, at: float) -> None:
        if not self.db.exists():
            return
        try:
            conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=1)
            try:
                for (mid,) in conn.execute("SELECT message_id FROM messages WHERE status != 'new'"):
                    self.done_at.setdefault(mid, at)
            finally:
                conn.close()
        except sqlite3.Error:
            pass

    def stop(self) -> None:
        self._halt.set()
        self.join()
        if self.db is not None:
            self._sample_db(time.perf_counter() - self.start_time)


def run_measured(cmd: list[str], *, db: Path | None = None, log: Path | None = None, cwd: Path = ROOT,
                 env: dict | None = None) -> dict:
    """Run ``cmd``; wall time, peak memory of its process tree, its output."""
    start = time.perf_counter()
    load = os.getloadavg()[0]
    err = open(log, "ab") if log else subprocess.DEVNULL
    try:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=err)
        sampler = TreeSampler(proc.pid, db=db)
        sampler.start_time = start
        sampler.start()
        out = proc.stdout.read()
        # (not ru_maxrss: a forked child inherits the high-water mark of this process before its exec)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        sampler.stop()
    finally:
        if log:
            err.close()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed with {proc.returncode}" + (f"; see {log}" if log else ""))
    return {"seconds": round(wall, 3), "peak_tree_mb": round(sampler.peak_total / MiB, 1),
            "peak_parent_mb": round(sampler.peak_parent / MiB, 1),
            "peak_largest_child_mb": round(sampler.peak_child / MiB, 1),
            "cpu_seconds": round(max(sum(sampler.cpu_ticks.values()) / TICK,
                                     usage.ru_utime + usage.ru_stime), 2),
            # the bot's own process (its workers are not its children: the tree's figure has them)
            "bot_cpu_seconds": round(sampler.cpu_ticks.get(proc.pid, 0) / TICK, 2),
            "load_before": round(load, 2),
            "processes": sampler.max_processes, "stdout": out.decode("utf-8", "replace").strip(),
            "done_at": sampler.done_at}


def bot_poll(tree: Tree, config: Path, log: Path, db: Path | None = None) -> dict:
    return run_measured([sys.executable, "-m", "bot", "--config", str(config), "--now", NOW, "poll"],
                        db=db, log=log, cwd=tree.root, env=tree.env(CONFIG_OCR[config]))


def quiet_polls(tree: Tree, config: Path, repeat: int) -> list[float]:
    """Polls with no new mail, timed inside one process (as the worker runs them)."""
    code = (
        "import json, sys, time\n"
        "from datetime import datetime\n"
        "from pathlib import Path\n"
        "from bot import app\n"
        "from bot.send import make_sender\n"
        f"ctx = app.load(Path({str(config)!r}))\n"
        f"now = datetime.fromisoformat({NOW!r}).replace(tzinfo=ctx.rules.campaign.tz)\n"
        "sender = make_sender(ctx.config)\n"
        "times = []\n"
        f"for _ in range({repeat}):\n"
        "    t = time.perf_counter()\n"
        "    report = app.poll(ctx, now, sender=sender)\n"
        "    times.append(time.perf_counter() - t)\n"
        "    assert report.new == 0, report.summary()\n"
        "print(json.dumps(times))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=tree.root, env=tree.env(CONFIG_OCR[config]),
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def quiet_figures(tree: Tree, config: Path, log: Path, repeat: int = 7) -> dict:
    inside = quiet_polls(tree, config, repeat)
    commands = [bot_poll(tree, config, log)["seconds"] for _ in range(3)]
    return {"in_process_seconds": [round(t, 4) for t in inside],
            "in_process_median": round(statistics.median(inside[1:] or inside), 4),
            "command_median": round(statistics.median(commands), 3)}


def state_counts(state: Path) -> dict:
    conn = sqlite3.connect(state / "bot.sqlite3")
    try:
        messages = dict(conn.execute("SELECT status, COUNT(*) FROM messages GROUP BY status").fetchall())
        items = dict(conn.execute("SELECT decision, COUNT(*) FROM items GROUP BY decision").fetchall())
        return {"messages": messages, "items": items}
    finally:
        conn.close()


def ocr_figures(state: Path, done_at: dict[str, float], wall: float, cpu: float, max_ocr_pages: int = 12) -> dict:
    """OCR pages per second, and how long the messages needing no OCR waited.

    A page counts as OCR'd when its file was read by OCR, up to the bot's
    page limit (``ExtractLimits.max_pages``, 12): the bot before issue 15 read
    the first 4 scanned pages whole and the tops of the next ones, the bot
    after it the head of every page and the body where needed; both touch
    every scanned page up to the limit."""
    conn = sqlite3.connect(state / "bot.sqlite3")
    try:
        ocr_files = {}
        for sha, result in conn.execute("SELECT sha256, result FROM extractions"):
            r = json.loads(result)
            if r["ocr"]:
                ocr_files[sha] = min(r["pages"] or 1, max_ocr_pages)
        ocr_messages = {mid for (mid, sha) in conn.execute(
            "SELECT m.message_id, i.content_sha256 FROM items i JOIN messages m ON m.id = i.message_row")
            if sha in ocr_files}
        all_messages = [r[0] for r in conn.execute("SELECT message_id FROM messages")]
    finally:
        conn.close()
    plain = [done_at[m] for m in all_messages if m not in ocr_messages and m in done_at]
    scans = [done_at[m] for m in all_messages if m in ocr_messages and m in done_at]
    pages = sum(ocr_files.values())
    return {"ocr_files": len(ocr_files), "ocr_pages": pages, "ocr_messages": len(ocr_messages),
            "pages_per_second": round(pages / wall, 2) if wall else None,
            "seconds_per_page": round(wall / pages, 3) if pages else None,
            "cpu_seconds_per_page": round(cpu / pages, 3) if pages else None,
            # the OCR pass alone: from the last message without OCR to the last with it
            "ocr_pass_pages_per_second": (round(pages / (max(scans) - max(plain)), 2)
                                          if scans and plain and max(scans) > max(plain) else None),
            "plain_messages": len(plain),
            "plain_recorded_by_s": round(max(plain), 1) if plain else None,
            "plain_median_s": round(statistics.median(plain), 1) if plain else None,
            "ocr_recorded_by_s": round(max(scans), 1) if scans else None,
            "ocr_median_s": round(statistics.median(scans), 1) if scans else None}


_SCORE = """
import json, sys
from pathlib import Path
from bot import app
try:
    from bot.evaluate.classification import score
    from bot.rules.load import load_rules
except ImportError:  # a checkout before commit e83c0d5 (single-module evaluate and rules)
    from bot.evaluate import score
    from bot.rules import load_rules
from bot.store import Store
labels = json.loads(Path(sys.argv[1]).read_text("utf-8"))
with Store.open(Path(sys.argv[2])) as store:
    rows = app.export_rows(store, load_rules(Path(sys.argv[3])))
m = score(labels, rows)
print(json.dumps({"documents": m.genuine, "counted": m.counted,
                  "school_precision": round(100 * m.school_precision, 2),
                  "type_precision": round(100 * m.type_precision, 2),
                  "recall": round(100 * m.recall, 2), "review_rate": round(100 * m.review_rate, 2),
                  "school_right": m.genuine_school_found, "type_right": m.genuine_type_found,
                  "in_review": m.genuine_review, "missing": m.genuine_missing,
                  "other_campaign_counted": m.other_campaign_counted,
                  "earlier_year_counted": m.earlier_year_counted}))
"""


def accuracy(tree: Tree, corpus: Path, names: list[str], state: Path, workdir: Path) -> dict:
    """How the poll whose state is ``state`` scores against the corpus labels of the messages ``names``."""
    labels = json.loads((corpus / "labels.json").read_text("utf-8"))
    subset = workdir / f"labels-{state.name}.json"
    subset.write_text(json.dumps({n: labels[n] for n in names if n in labels}, ensure_ascii=False), "utf-8")
    out = subprocess.run([sys.executable, "-c", _SCORE, str(subset), str(state), str(tree.root / "rules")],
                         cwd=tree.root, env=tree.env("off"), check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


IDLE_COMMANDS = ("status", "health", "check-config", "poll")


def idle_figures(tree: Tree, config: Path, log: Path, runs: int) -> dict:
    """Median wall and CPU time of each idle command as a whole process (interpreter start-up included).

    Bytecode is cached as in an installed bot (``PYTHONDONTWRITEBYTECODE`` is
    dropped, and a first run of each command writes it): otherwise every run
    compiles the bot's modules again. CPU time (user + system) is given
    beside the wall time: on a shared machine it moves less.
    """
    env = {k: v for k, v in tree.env(CONFIG_OCR[config]).items() if k != "PYTHONDONTWRITEBYTECODE"}
    out: dict = {"load_before": round(os.getloadavg()[0], 2)}
    for command in ("python -c pass",) + IDLE_COMMANDS:
        cmd = ([sys.executable, "-c", "pass"] if command.startswith("python") else
               [sys.executable, "-m", "bot", "--config", str(config), "--now", NOW, command])
        walls, cpus = [], []
        for n in range(runs + 1):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            with open(log, "ab") as err:
                subprocess.run(cmd, cwd=tree.root, env=env, stdout=subprocess.DEVNULL, stderr=err)
            wall = time.perf_counter() - t
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if n:  # the first run writes the bytecode
                walls.append(wall)
                cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        out[command] = {"wall": round(statistics.median(walls), 3), "cpu": round(statistics.median(cpus), 3)}
    return out


def _idle_line(idle: dict) -> str:
    return ", ".join(f"{k} {v['wall']:.2f} s (CPU {v['cpu']:.2f} s)" for k, v in idle.items() if k != "load_before")


# --------------------------------------------------------------------------


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Benchmark the bot against a real Dovecot (see README, Performance).")
    ap.add_argument("--messages", type=int, default=2000, help="messages in the big mailbox (default 2000)")
    ap.add_argument("--small", type=int, default=200,
                    help="messages in the small mailbox (default 200; 0: skip it and the in-process quiet polls)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--new", type=int, default=10, help="new messages for the incremental poll (default 10)")
    ap.add_argument("--ocr-messages", type=int, default=100,
                    help="messages polled with OCR on, spread over the corpus (0: skip; >= --messages: all)")
    ap.add_argument("--idle-runs", type=int, default=5, help="runs of each idle command (0: skip)")
    ap.add_argument("--big-mb", type=int, default=50, help="size of the big attachment in MB (0: skip)")
    ap.add_argument("--no-naive", action="store_true", help="skip the naive baseline")
    ap.add_argument("--keep", action="store_true", help="keep the Dovecot and state directories")
    ap.add_argument("--label", default="", help="a name for this run in the results file")
    ap.add_argument("--official-share", type=float, default=0.0,
                    help="share of the messages taken from the 'official' corpus preset (signed PDFs, drafts, "
                         "stamped and unstamped scans; issue 16), e.g. 0.25 (default 0: the usual mix)")
    ap.add_argument("--tree", type=Path, default=ROOT,
                    help="measure the bot of another checkout (e.g. an older commit unpacked with git archive)")
    args = ap.parse_args(argv)

    OUT.mkdir(parents=True, exist_ok=True)
    corpus = (ensure_official_mix(args.messages, args.seed, args.official_share) if args.official_share
              else ensure_corpus(args.messages, args.seed))
    extra = ensure_corpus(max(args.new, 1), args.seed + 1000) if args.new else None
    workdir = Path(tempfile.mkdtemp(prefix="hoso-bench-"))
    os.chmod(workdir, 0o755)
    log = OUT / f"bot-{args.messages}.log"
    log.write_bytes(b"")
    results: dict = {"label": args.label, "messages": args.messages, "cores": os.cpu_count(),
                     "started": datetime.now().isoformat(timespec="seconds")}
    tree = Tree(args.tree.resolve(), workdir)
    results["tree"] = str(tree.root)
    if args.official_share:
        results["official_share"] = official_share_figures(corpus)
        o = results["official_share"]
        print(f"official-copy messages: {o['messages']} of {args.messages}; {o['signed_pdfs']} signed PDFs among "
              f"{o['documents']} documents", flush=True)
    dovecot = start_dovecot(workdir)
    try:
        t = time.perf_counter()
        names = corpus_names(corpus)
        messages = corpus_messages(corpus, names=names)
        dovecot.append_many("INBOX", messages)
        # The smaller mailboxes are samples spread over the whole season: the
        # first messages by date are mostly other campaigns and automatic mail.
        if args.small:
            dovecot.append_many("Small", spread(messages, args.small))
        ocr_names = spread(names, args.ocr_messages) if args.ocr_messages else []
        if args.ocr_messages:
            dovecot.append_many("Ocr", spread(messages, args.ocr_messages))
        megabytes = sum(len(m) for m, _ in messages) / MiB
        del messages
        print(f"Dovecot filled with {args.messages} messages ({megabytes:.0f} MB) in "
              f"{time.perf_counter() - t:.1f} s", flush=True)
        results["mailbox_mb"] = round(megabytes, 1)

        if not args.no_naive:
            pw = workdir / "naive-password"
            pw.write_text(dovecot.password)
            naive = run_measured([sys.executable, "-m", "bench.naive", "--host", dovecot.host, "--port",
                                  str(dovecot.port), "--user", dovecot.user, "--password-file", str(pw)])
            naive["totals"] = json.loads(naive.pop("stdout").splitlines()[-1])
            naive.pop("done_at")
            naive["messages_per_second"] = round(args.messages / naive["seconds"], 1)
            results["naive"] = naive
            print(f"naive baseline: {naive['seconds']:.1f} s, {naive['messages_per_second']} msg/s, "
                  f"peak {naive['peak_tree_mb']} MB", flush=True)

        big_cfg = write_config(workdir, "big", dovecot, "INBOX", tree=tree)
        first = bot_poll(tree, big_cfg, log)
        first.pop("done_at")
        first["messages_per_second"] = round(args.messages / first["seconds"], 1)
        first["state"] = state_counts(workdir / "state-big")
        first["accuracy"] = accuracy(tree, corpus, names, workdir / "state-big", workdir)
        results["first_poll"] = first
        print(f"bot first poll: {first['seconds']:.1f} s, {first['messages_per_second']} msg/s, CPU of the tree "
              f"{first['cpu_seconds']} s (of the bot's process {first['bot_cpu_seconds']} s), load {first['load_before']}; "
              f"peak tree {first['peak_tree_mb']} MB (bot {first['peak_parent_mb']} MB, largest worker "
              f"{first['peak_largest_child_mb']} MB); {first['stdout']}", flush=True)
        print(f"  accuracy (OCR off): {_accuracy_line(first['accuracy'])}", flush=True)
        if "naive" in results:
            results["speedup_vs_naive"] = round(results["naive"]["seconds"] / first["seconds"], 2)
            print(f"speed-up over the naive baseline: {results['speedup_vs_naive']}x", flush=True)

        if args.small:
            small_cfg = write_config(workdir, "small", dovecot, "Small", tree=tree)
            small = bot_poll(tree, small_cfg, log)
            small.pop("done_at")
            results["first_poll_small"] = small
            print(f"bot first poll of {args.small}: {small['seconds']:.1f} s", flush=True)

            results["quiet_small"] = quiet_figures(tree, small_cfg, log)
            results["quiet_big"] = quiet_figures(tree, big_cfg, log)
            qs, qb = results["quiet_small"]["in_process_median"], results["quiet_big"]["in_process_median"]
            results["quiet_growth"] = round(qb / qs - 1, 3) if qs else None
            print(f"poll with no new mail: {qs * 1000:.0f} ms at N={args.small}, {qb * 1000:.0f} ms at "
                  f"N={args.messages} (in process); whole command {results['quiet_small']['command_median']:.2f} s "
                  f"/ {results['quiet_big']['command_median']:.2f} s", flush=True)

        if extra is not None:
            dovecot.append_many("INBOX", corpus_messages(extra, args.new))
            new = bot_poll(tree, big_cfg, log)
            new.pop("done_at")
            results["new_poll"] = new
            print(f"poll with {args.new} new messages: {new['seconds']:.2f} s ({new['stdout']})", flush=True)

        if args.big_mb:
            dovecot.append_many("Big", [(big_message(args.big_mb), datetime.fromisoformat("2023-10-05T09:30:00+07:00"))])
            cfg = write_config(workdir, "bigfile", dovecot, "Big", tree=tree, max_message_mb=2 * args.big_mb)
            big = bot_poll(tree, cfg, log)
            big.pop("done_at")
            results["big_attachment"] = big
            print(f"one message with a {args.big_mb} MB attachment: {big['seconds']:.1f} s, peak tree "
                  f"{big['peak_tree_mb']} MB (bot {big['peak_parent_mb']} MB)", flush=True)

        run_ocr_poll(args, tree, dovecot, workdir, log, corpus, ocr_names, results)
        if args.idle_runs:  # the mailbox polled first: `poll` finds no new mail
            results["idle_commands"] = idle = idle_figures(tree, big_cfg, log, args.idle_runs)
            print("idle commands (median, whole process): " + _idle_line(idle), flush=True)
    except BaseException:
        dovecot.close()
        raise
    return finish(args, results, dovecot, workdir)


def finish(args, results: dict, dovecot, workdir: Path) -> int:
    dovecot.close()
    if args.keep:
        print(f"kept {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    target = OUT / f"results-{args.messages}{('-' + args.label) if args.label else ''}.json"
    target.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"results written to {target}")
    return 0


def run_ocr_poll(args, tree: Tree, dovecot, workdir: Path, log: Path, corpus: Path, names: list[str],
                 results: dict) -> None:
    """The first poll of the OCR mailbox with OCR on: speed, pages, memory, accuracy."""
    if not args.ocr_messages:
        return
    cfg = write_config(workdir, "ocr", dovecot, "Ocr", tree=tree, ocr="auto")
    ocr = bot_poll(tree, cfg, log, db=workdir / "state-ocr" / "bot.sqlite3")
    ocr.update(ocr_figures(workdir / "state-ocr", ocr.pop("done_at"), ocr["seconds"], ocr["cpu_seconds"]))
    ocr["messages"] = len(names)
    ocr["messages_per_second"] = round(len(names) / ocr["seconds"], 2)
    ocr["accuracy"] = accuracy(tree, corpus, names, workdir / "state-ocr", workdir)
    results["ocr_poll"] = ocr
    print(f"OCR on, {len(names)} messages: {ocr['seconds']:.1f} s ({ocr['messages_per_second']} msg/s, CPU "
          f"{ocr['cpu_seconds']} s), {ocr['ocr_pages']} pages OCR'd ({ocr['seconds_per_page']} s a page, "
          f"{ocr['cpu_seconds_per_page']} s of CPU); messages without OCR all recorded by "
          f"{ocr['plain_recorded_by_s']} s (median {ocr['plain_median_s']} s), with OCR by "
          f"{ocr['ocr_recorded_by_s']} s; peak tree {ocr['peak_tree_mb']} MB (largest process "
          f"{ocr['peak_largest_child_mb']} MB)", flush=True)
    print(f"  accuracy (OCR on): {_accuracy_line(ocr['accuracy'])}", flush=True)


def _accuracy_line(a: dict) -> str:
    return (f"{a['documents']} documents: school right {a['school_right']}, type right {a['type_right']}, "
            f"in review {a['in_review']} ({a['review_rate']} %), missing {a['missing']}; precision school "
            f"{a['school_precision']} % type {a['type_precision']} %; other campaign / earlier year counted "
            f"{a['other_campaign_counted']} / {a['earlier_year_counted']}")


if __name__ == "__main__":
    raise SystemExit(main())
