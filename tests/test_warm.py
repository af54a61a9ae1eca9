"""The cache warm-up at server start (ui/warm.py) and the launcher that starts it (ui/serve.py)."""
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ui import serve, warm

ROOT = Path(__file__).resolve().parent.parent


def test_every_page_of_the_navigation_is_warmed_home_first():
    app = (ROOT / "app.py").read_text()
    listed = warm.pages()
    assert listed[0] == ""  # Home, the default page
    for stem in listed[1:]:
        assert f'"pages/{stem}.py"' in app, stem
    assert app.count("st.Page(") == len(listed)


def test_port_from_the_command_line():
    assert serve.port_of(["--server.port", "9123"]) == 9123
    assert serve.port_of(["--server.port=9124", "--server.headless", "true"]) == 9124


def test_warming_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("MANIFOLD_LAB_WARM", "0")
    assert warm.start(1) is False


@pytest.mark.slow
def test_the_launcher_serves_the_app_and_warms_every_page(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    models = tmp_path / "models"
    shutil.copytree(ROOT / "models", models, ignore=shutil.ignore_patterns(".*"))
    log = tmp_path / "server.log"
    env = {**os.environ, "MANIFOLD_LAB_MODELS": str(models)}
    with open(log, "wb") as f:
        proc = subprocess.Popen([sys.executable, "-m", "ui.serve", "--server.port", str(port), "--server.headless",
                                 "true", "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
                                cwd=ROOT, env=env, stdout=f, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline and warm.WARM_DONE not in log.read_text(errors="replace"):
            assert proc.poll() is None, log.read_text()[-3000:]
            time.sleep(1)
        text = log.read_text(errors="replace")
        line = [ln for ln in text.splitlines() if warm.WARM_DONE in ln]
        assert line, text[-3000:]
        assert f"({len(warm.pages())} pages" in line[0], line[0]
        assert "failed" not in text and "Traceback" not in text and "exception" not in line[0], text[-3000:]
        # Every page ran without an exception element.
        assert warm.visit(port, ["generate"])["generate"]["exceptions"] == 0
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
