"""Run inside `unshare -rnm`: a private network namespace whose loopback interface also carries 198.51.100.1,
the stand-in for the internet. Listeners there log every TCP connection and UDP datagram. A job-like child runs
with the local pool's guard (PYTHONPATH sitecustomize + MLJOBS_NETGUARD, as the launcher sets them) and tries
to get out. Prints one JSON line: {probe: {"escaped": bool, "detail": str}}.

Not a test module (no test_ prefix): tests/security/test_netguard_escapes.py runs it.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

INTERNET = "198.51.100.1"


def setup_namespace(hosts: Path) -> None:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "addr", "add", f"{INTERNET}/32", "dev", "lo"], check=True)
    hosts.write_text(f"127.0.0.1 localhost\n{INTERNET} good.example\n{INTERNET} sneaky.localhost\n")
    subprocess.run(["mount", "--bind", str(hosts), "/etc/hosts"], check=True)


def listeners(seen: list[str]) -> tuple[int, int]:
    tcp = socket.socket()
    tcp.bind((INTERNET, 0))
    tcp.listen(64)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((INTERNET, tcp.getsockname()[1]))

    def accept() -> None:
        while True:
            conn, _ = tcp.accept()
            data = conn.recv(100)
            seen.append("tcp:" + data.decode(errors="replace"))
            conn.close()

    def receive() -> None:
        while True:
            data, _ = udp.recvfrom(100)
            seen.append("udp:" + data.decode(errors="replace"))

    threading.Thread(target=accept, daemon=True).start()
    threading.Thread(target=receive, daemon=True).start()
    return tcp.getsockname()[1], udp.getsockname()[1]


PROBES = r'''
import ctypes, importlib, json, os, socket, subprocess, sys
IP, PORT = sys.argv[1], int(sys.argv[2])
out = {}
def probe(name, fn):
    try:
        fn()
        out[name] = "no error"
    except BaseException as exc:
        out[name] = type(exc).__name__ + ": " + str(exc)[:200]
def tcp(tag, make=socket.socket):
    s = make(); s.settimeout(2); s.connect((IP, PORT)); s.sendall(tag.encode()); s.close()
def allowed():
    try:
        socket.create_connection(("good.example", 443), timeout=2).close()
    except ConnectionRefusedError as exc:
        if "mljobs network guard" in str(exc):
            raise PermissionError("guard refused an allowed host")
probe("allowed host (must pass the guard)", allowed)
probe("create_connection", lambda: socket.create_connection((IP, PORT), timeout=2).sendall(b"create_connection"))
probe("socket.connect", lambda: tcp("socket.connect"))
def connect_ex():
    s = socket.socket(); s.settimeout(2)
    if s.connect_ex((IP, PORT)) == 0:
        s.sendall(b"connect_ex")
    s.close()
probe("connect_ex", connect_ex)
import _socket
probe("raw _socket", lambda: tcp("raw _socket", _socket.socket))
def udp_sendto():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.sendto(b"udp sendto", (IP, PORT))
probe("udp sendto", udp_sendto)
def udp_flags():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.sendto(b"udp sendto flags", 0, (IP, PORT))
probe("udp sendto flags", udp_flags)
def udp_sendmsg():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.sendmsg([b"udp sendmsg"], [], 0, (IP, PORT))
probe("udp sendmsg", udp_sendmsg)
def udp_connect():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.connect((IP, PORT)); u.send(b"udp connect")
probe("udp connect", udp_connect)
probe("dns getaddrinfo", lambda: socket.getaddrinfo("evil.example", 443))
probe("dns gethostbyname", lambda: socket.gethostbyname("evil.example"))
probe("dns gethostbyname_ex", lambda: socket.gethostbyname_ex("evil.example"))
probe("dns gethostbyaddr", lambda: socket.gethostbyaddr(IP))
probe("dns getnameinfo", lambda: socket.getnameinfo((IP, PORT), 0))
def resolved_other_port():
    socket.getaddrinfo("good.example", 443)  # allowed name, allowed port
    tcp("resolved name other port")         # the address it resolved to, on another port
probe("resolved name other port", resolved_other_port)
def sneaky_localhost():
    infos = socket.getaddrinfo("sneaky.localhost", PORT)
    tcp("localhost name to private")
probe("localhost name to private", sneaky_localhost)
def reload_socket():
    import socket as s2
    s2 = importlib.reload(s2)
    c = s2.socket(); c.settimeout(2); c.connect((IP, PORT)); c.sendall(b"reload socket")
probe("reload socket", reload_socket)
child = f"import socket; s=socket.socket(); s.settimeout(2); s.connect(({IP!r},{PORT})); s.sendall(b'CHILD')"
def run_child(args, **kw):
    r = subprocess.run(args, capture_output=True, timeout=20, **kw)
    if r.returncode:
        raise RuntimeError(r.stderr.decode()[-200:])
probe("child python -I", lambda: run_child([sys.executable, "-I", "-c", child.replace("CHILD", "child python -I")]))
probe("child python -E", lambda: run_child([sys.executable, "-E", "-c", child.replace("CHILD", "child python -E")]))
probe("child env={}", lambda: run_child([sys.executable, "-c", child.replace("CHILD", "child env={}")], env={}))
def popped_env():
    env_backup = dict(os.environ)
    os.environ.pop("PYTHONPATH", None); os.environ.pop("MLJOBS_NETGUARD", None)
    try:
        run_child([sys.executable, "-c", child.replace("CHILD", "child after env pop")])
    finally:
        os.environ.update(env_backup)
probe("child after env pop", popped_env)
def ctypes_connect():
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.socket(2, 1, 0)
    import struct
    addr = struct.pack("!HH4s8x", 2, PORT, socket.inet_aton(IP))
    addr = struct.pack("=H", 2) + addr[2:]
    if libc.connect(fd, addr, len(addr)) != 0:
        raise OSError(ctypes.get_errno(), "ctypes connect failed")
    libc.write(fd, b"ctypes (documented)", 19)
probe("ctypes (documented)", ctypes_connect)
def shell_child():
    rc = os.system(f"{sys.executable} -I -c \"{child.replace('CHILD', 'os.system python -I (documented)')}\"")
    if rc:
        raise RuntimeError(f"exit {rc}")
probe("os.system python -I (documented)", shell_child)
curl = __import__("shutil").which("curl")
if curl:
    probe("curl (documented)", lambda: run_child([curl, "-s", "-m", "2", "-d", "curl", f"http://{IP}:{PORT}/"]))
print(json.dumps(out))
'''


def main() -> int:
    repo_runner = Path(sys.argv[1])  # mljobs/server/runner (launcher.py and netguard.py)
    sys.path.insert(0, str(repo_runner.parent.parent.parent))
    from mljobs.server.runner import jobdir, launcher

    work = Path(tempfile.mkdtemp(prefix="mljobs-netns-"))
    setup_namespace(work / "hosts")
    seen: list[str] = []
    port, _ = listeners(seen)
    job_dir = work / "job"
    (job_dir / "system").mkdir(parents=True)
    shutil.copy(repo_runner / "netguard.py", job_dir / "system" / jobdir.NETGUARD_NAME)
    launch = {"job_eais": {"GOOD_EAI": ["good.example"]}, "known_eais": {"GOOD_EAI": ["good.example"]}}
    config = launcher._write_guard_files(job_dir, launch, [], "job")
    env = launcher._guarded_env(job_dir, config)
    env.pop("PYTHONSAFEPATH", None)
    proc = subprocess.run([sys.executable, "-c", PROBES, INTERNET, str(port)], env=env, capture_output=True,
                          text=True, timeout=120, cwd=work)
    time.sleep(0.5)  # let the listeners log what arrived
    results = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.stdout.strip() else {}
    report = {}
    for name, detail in results.items():
        if name.startswith("curl"):
            escaped = any("User-Agent: curl" in s for s in seen)
        else:
            escaped = any(s.split(":", 1)[1] == name for s in seen)
        report[name] = {"escaped": escaped, "detail": detail}
    report["_seen"] = {"escaped": False, "detail": ";".join(seen)}
    report["_stderr"] = {"escaped": False, "detail": proc.stderr[-500:]}
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
