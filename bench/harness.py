"""What the HTTP benchmarks share: the environment, gunicorn, wrk, and CPU readings from /proc.

Imported by bench/me.py and bench/wallet.py (run as `.venv/bin/python bench/NAME.py`, so
this folder is on the path).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
HOST = "127.0.0.1"
CLK_TCK = os.sysconf("SC_CLK_TCK")
CONFIGS = {
    "gthread": ["--workers", "2", "--threads", "4"],
    "sync": ["--workers", "4"],
}


def git_revision() -> str:
    """HEAD's short hash, and "+ uncommitted changes" when the tree differs (read-only git commands)."""
    try:
        head = subprocess.run(["git", "--no-optional-locks", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
    except OSError:
        return "unknown"
    return (head or "unknown") + (" + uncommitted changes" if dirty else "")


def log(message: str) -> None:
    print(f"[bench] {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def ensure_tool(command: str, package: str) -> str:
    """The path of ``command``, installing Debian's ``package`` when it is missing and we may."""
    found = shutil.which(command) or shutil.which(command, path="/usr/sbin:/sbin")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log(f"{command} is missing; installing {package} with apt-get")
        subprocess.run(["apt-get", "update", "-qq"], check=True, timeout=300)
        subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True, timeout=600)
        found = shutil.which(command) or shutil.which(command, path="/usr/sbin:/sbin")
        if found:
            return found
    sys.exit(f"{command} is not installed: run `sudo apt-get install -y {package}` (Debian/Ubuntu) and try again")


def ensure_wrk() -> str:
    return ensure_tool("wrk", "wrk")


def app_environment(database_url: str, instance_dir: Path) -> dict[str, str]:
    """The server's and the migration's environment; nothing read from or written to instance/."""
    env = dict(os.environ)
    env.pop("REDIS_URL", None)  # rate-limit counts stay in memory; Redis is not under test
    env.update(
        APP_ENV="development",
        DATABASE_URL=database_url,
        INSTANCE_DIR=str(instance_dir),
        SECRET_KEY=secrets.token_urlsafe(30),  # 40 characters
        JWT_SECRET=secrets.token_urlsafe(30),
        ACCESS_TOKEN_SECONDS="3600",
        RATE_LIMIT_REGISTER="100000 per minute",
        RATE_LIMIT_LOGIN="100000 per minute",
        RATE_LIMIT_REFRESH="100000 per minute",
        RATE_LIMIT_SCAN="100000 per minute",
        RATE_LIMIT_PURCHASE="100000 per minute",  # POST /pos/purchases has a per-till limit (120/min by default)
    )
    return env


def migrate(env: dict[str, str]) -> None:
    log("migrating (flask --app wsgi db upgrade)")
    subprocess.run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   timeout=300)


# --- the server ----------------------------------------------------------------------


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((HOST, port)) == 0


def start_server(config: str, port: int, env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    # config/gunicorn.py as `make run` gives it (a socket per worker, no Server header); no access log.
    cmd = [str(BIN / "gunicorn"), "-c", "python:config.gunicorn", "--bind", f"{HOST}:{port}", *CONFIGS[config],
           "--log-level", "warning", "wsgi:app"]
    log(f"starting gunicorn {' '.join(cmd[1:])}")
    with open(log_path, "ab") as out:
        # Its own process group, so stopping it takes the workers too.
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    log(f"stopping gunicorn (pid {proc.pid})")
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def http(method: str, url: str, body: Any = None, token: str | None = None) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_ready(proc: subprocess.Popen[bytes], base: str, log_path: Path, timeout: float = 30) -> None:
    """Until /healthz answers from *our* gunicorn (not another process on the port)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
        if "Connection in use" in (log_path.read_text(errors="replace") if log_path.exists() else ""):
            raise RuntimeError(f"another process took {base} first:\n{log_path.read_text()[-1000:]}")
        try:
            if http("GET", f"{base}/healthz")[0] == 200:
                time.sleep(1)  # a second look at the log: did our master bind the port?
                if "Connection in use" in log_path.read_text(errors="replace"):
                    raise RuntimeError(f"another process answers on {base}")
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer /healthz within {timeout:.0f} s:\n{log_path.read_text()[-3000:]}")


# --- measuring -----------------------------------------------------------------------


def proc_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) of one process, or None when it is not visible."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rpartition(")")[2].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, summed over its CPUs."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / CLK_TCK, sum(values) / CLK_TCK


def run_wrk(wrk: str, lua: Path, url: str, connections: int, duration: int, extra_env: dict[str, str]) -> dict[str, Any]:
    """One wrk run; the Lua script prints its figures as a ``BENCH_JSON`` line."""
    env = dict(os.environ, **extra_env)
    cmd = [wrk, "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "--latency", "-s", str(lua), url]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=duration + 60, check=True).stdout
    for line in out.splitlines():
        if line.startswith("BENCH_JSON "):
            result = json.loads(line.removeprefix("BENCH_JSON "))
            break
    else:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["wrk_output"] = out
    return result
