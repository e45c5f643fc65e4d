"""Outbound network guard for local-pool jobs: only the hosts of the job's EAIs are reachable (stdlib only).

A Snowflake ML Job can reach exactly the hosts its external access integrations (EAIs) allow; everything
else fails. The local pool runs jobs on the user's machine, so this module makes a job process behave the
same way: it wraps `socket.getaddrinfo`, `socket.create_connection` and `socket.socket.connect` /
`connect_ex` so a host (or an IP that was not resolved from an allowed host) outside the EAI rules is
refused *before* any DNS lookup or traffic, with a message naming the host and the local EAI that would
allow it.

Matching follows Snowflake's HOST_PORT VALUE_LIST rules (research snowflake-facts §3.4):
no port means 443, `:0` means every port, `lo-hi` is a port range, one `*` matches a run of letters,
digits and hyphens inside a single label (never a dot), and `0.0.0.0` allows every host on ports 80 and
443 only. Loopback addresses and unix sockets are always allowed (they never leave the machine).

Only Python-level sockets are guarded: C extensions with their own networking and proxies configured
through environment variables are outside its reach (documented in docs/local-pool.md).

This file is copied into each job's `system/` folder as `mljobs_netguard.py` and imported there by the
launcher and by a `sitecustomize.py`, so it must stay importable without mljobs installed.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import json
import os
import re
import socket
import sys
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

CONFIG_ENV = "MLJOBS_NETGUARD"  # path of the guard's JSON config, read by `install_from_env`
DEFAULT_PORT = 443
WILDCARD_PORTS = (80, 443)  # the only ports `0.0.0.0` opens (Snowflake rejects others)
_LABEL_CHARS = "[A-Za-z0-9-]*"
_RULE_RE = re.compile(r"^(?P<host>\[[0-9A-Fa-f:.]+\]|[^:\s]+)(?::(?P<lo>\d{1,5})(?:-(?P<hi>\d{1,5}))?)?$")


class RuleSyntaxError(ValueError):
    """A network-rule value that Snowflake would not accept (bad port, two wildcards, wildcard TLD...)."""


@dataclass(frozen=True, slots=True)
class HostRule:
    """One parsed VALUE_LIST entry: a host pattern and an inclusive port range (0-65535 = any port)."""

    text: str
    host: str  # lower-case; may contain one `*`
    port_lo: int
    port_hi: int

    @property
    def any_host(self) -> bool:
        return self.host == "0.0.0.0"


def parse_rule(value: str) -> HostRule:
    """Parse one network-rule value (`host`, `host:port`, `host:lo-hi`, `host:0`, `*.example.com`).

    Raises:
        RuleSyntaxError: empty value, bad port or range, more than one `*`, a `*` in the last two labels,
            or `0.0.0.0` with a port other than 80/443.
    """
    text = value.strip()
    match = _RULE_RE.match(text)
    if not text or not match:
        raise RuleSyntaxError(f"{value!r} is not a host[:port] value")
    host = match.group("host").lower().strip("[]").rstrip(".")
    if not host:
        raise RuleSyntaxError(f"{value!r} has no host")
    lo_text, hi_text = match.group("lo"), match.group("hi")
    if lo_text is None:
        lo = hi = DEFAULT_PORT
    elif hi_text is None:
        lo = hi = int(lo_text)
        if lo == 0:
            lo, hi = 0, 65535
    else:
        lo, hi = int(lo_text), int(hi_text)
        if lo == 0 or lo > hi:
            raise RuleSyntaxError(f"{value!r}: a port range must be low-high with 1 <= low <= high")
    if hi > 65535:
        raise RuleSyntaxError(f"{value!r}: ports go up to 65535")
    if host.count("*") > 1:
        raise RuleSyntaxError(f"{value!r}: only one `*` is allowed")
    if "*" in host:
        labels = host.split(".")
        star_label = next(i for i, label in enumerate(labels) if "*" in label)
        # `*.com` would open a whole top-level domain: Snowflake allows wildcards only below the
        # second-level domain, so the `*` label needs at least two labels after it.
        if len(labels) - star_label < 3:
            raise RuleSyntaxError(f"{value!r}: a wildcard must sit below the second-level domain")
    if host == "0.0.0.0" and (lo, hi) not in {(443, 443), (80, 80)}:
        raise RuleSyntaxError(f"{value!r}: 0.0.0.0 allows only port 443 or 80")
    return HostRule(text=text, host=host, port_lo=lo, port_hi=hi)


def _host_pattern(host: str) -> re.Pattern[str]:
    prefix, star, suffix = host.partition("*")
    body = re.escape(prefix) + (_LABEL_CHARS if star else "") + re.escape(suffix)
    return re.compile(f"^{body}$", re.IGNORECASE)


def rule_allows(rule: HostRule, host: str, port: int | None) -> bool:
    """Whether one rule lets a connection to `host:port` out (`port=None`: on any port of the rule)."""
    host = host.lower().strip("[]").rstrip(".")
    if rule.any_host:
        return port is None or port in WILDCARD_PORTS
    if port is not None and not rule.port_lo <= port <= rule.port_hi:
        return False
    return bool(_host_pattern(rule.host).match(host))


def host_allowed(rules: Iterable[HostRule], host: str, port: int | None = DEFAULT_PORT) -> bool:
    """Whether any of the rules allows `host:port`; loopback is always allowed.

    `port=None` asks "is this host reachable on some port" (a bare DNS lookup).
    """
    if is_loopback(host):
        return True
    return any(rule_allows(rule, host, port) for rule in rules)


def is_loopback(host: str) -> bool:
    """True for `localhost`, 127.0.0.0/8 and ::1 (traffic that never leaves the machine)."""
    name = host.lower().strip("[]").rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class GuardPolicy:
    """What a job may reach: its own EAIs' rules, plus every known EAI (to suggest one on a refusal)."""

    job_eais: Mapping[str, tuple[HostRule, ...]]
    known_eais: Mapping[str, tuple[HostRule, ...]]
    extra_hosts: tuple[HostRule, ...] = ()  # e.g. the machine's own pip index during the pip phase
    label: str = "job"

    @classmethod
    def from_config(cls, data: Mapping[str, object]) -> GuardPolicy:
        """Build from the JSON config the launcher writes (`{"job_eais": {name: [values]}, ...}`)."""

        def rules(mapping: object) -> dict[str, tuple[HostRule, ...]]:
            if not isinstance(mapping, Mapping):
                return {}
            return {str(name): tuple(parse_rule(v) for v in values) for name, values in mapping.items()}

        extra = data.get("extra_hosts")
        extra = extra if isinstance(extra, (list, tuple)) else []
        return cls(
            job_eais=rules(data.get("job_eais")),
            known_eais=rules(data.get("known_eais")),
            extra_hosts=tuple(parse_rule(str(v)) for v in extra),
            label=str(data.get("label") or "job"),
        )

    def allows(self, host: str, port: int | None) -> bool:
        return is_loopback(host) or self.rules_allow(host, port)

    def rules_allow(self, host: str, port: int | None) -> bool:
        """Whether a rule (not the loopback exception) allows `host:port`."""
        rules = [r for eai_rules in self.job_eais.values() for r in eai_rules] + list(self.extra_hosts)
        return any(rule_allows(rule, host, port) for rule in rules)

    def refusal(self, host: str, port: int | None) -> str:
        """The message for a refused `host:port`: which EAI would allow it, or that none does."""
        where = f"{host}:{port}" if port is not None else host
        job = ", ".join(sorted(self.job_eais)) or "none"
        would = sorted(name for name, rules in self.known_eais.items() if host_allowed(rules, host, port))
        if would:
            names = " or ".join(would)
            hint = f"the local EAI {names} allows it: add it to the job's external_access_integrations"
        else:
            hint = (
                "no local EAI allows it: add the host to an EAI in the local EAI config "
                "(see docs/local-pool.md) or create one in Snowflake"
            )
        return f"mljobs network guard: outbound connection to {where} blocked (job EAIs: {job}); {hint}"


class _Guard:
    """The installed wrappers' shared state: the policy and the (ip, port) pairs allowed names resolved to."""

    def __init__(self, policy: GuardPolicy) -> None:
        self.policy = policy
        self.resolved: set[tuple[str, int | None]] = set()  # (ip, port) resolved from a name a rule allows
        self.reported: set[tuple[str, int | None]] = set()
        self.lock = threading.Lock()

    def check_host(self, host: str, port: int | None) -> str | None:
        """None when allowed, else the refusal message (also written once per host to stderr, the job log,
        because libraries such as pip or huggingface_hub often swallow connection errors)."""
        message = self._check(host, port)
        if message is not None:
            with self.lock:
                first = (host, port) not in self.reported
                self.reported.add((host, port))
            if first:
                with contextlib.suppress(Exception):
                    sys.stderr.write(message + "\n")
                    sys.stderr.flush()
        return message

    def _check(self, host: str, port: int | None) -> str | None:
        if is_ip(host):
            ip = host.strip("[]").split("%", 1)[0]
            if is_loopback(ip) or self.policy.rules_allow(ip, port):
                return None
            with self.lock:
                # Only the port the allowed name was resolved for, never the whole address.
                known = (ip, port) in self.resolved or (port is None and any(r[0] == ip for r in self.resolved))
            return None if known else self.policy.refusal(ip, port)
        if is_loopback(host):
            return None  # a loopback *name*: its lookup answers are filtered to loopback addresses
        return None if self.policy.allows(host, port) else self.policy.refusal(host, port)

    def filter_answers(self, host: str, port: int | None, infos: list[tuple]) -> list[tuple]:
        """The lookup answers a job may use, remembering them for the connect that follows.

        A loopback name (`localhost`, `x.localhost`) keeps only loopback answers: a resolver that maps it
        elsewhere must not open that address. A name a rule allows has its answers remembered for that
        port only; an answer is never a reason to allow the address on other ports or for other names.
        """
        if is_ip(host):
            return infos
        if not self.policy.rules_allow(host, port):  # allowed only as a loopback name
            return [info for info in infos if is_loopback(str(info[4][0]))]
        with self.lock:
            for info in infos:
                self.resolved.add((str(info[4][0]), port))
        return infos


def _port_of(port: object, proto: str = "tcp") -> int | None:
    if port is None:
        return None
    if isinstance(port, int):
        return port
    text = port.decode() if isinstance(port, bytes) else str(port)
    if text.isdigit():
        return int(text)
    try:
        return socket.getservbyname(text, proto)
    except OSError:
        return None


_installed: _Guard | None = None


def _name(host: object) -> str:
    return host.decode() if isinstance(host, bytes) else str(host)


def install(policy: GuardPolicy) -> None:
    """Wrap the socket functions of this process with `policy` (idempotent: a second call swaps policy).

    The wrappers go on both `socket` and the C module `_socket` underneath it, so `import _socket`,
    `importlib.reload(socket)` (which re-reads `_socket`) and UDP `sendto` are guarded too, and every name
    lookup (`getaddrinfo`, `gethostbyname[_ex]`, `gethostbyaddr`, `getnameinfo`) is refused before any DNS
    traffic for a name no EAI allows. Child processes keep the guard's environment (see `_guard_children`).
    What stays outside: native code (ctypes, C extensions with their own sockets), non-Python programs
    (curl, git), and code that digs out the original type (`socket.socket.__mro__`). docs/local-pool.md
    says so; `MLJOBS_LOCAL_ISOLATION=netns` offers the OS-level mode.
    """
    global _installed
    if _installed is not None:
        _installed.policy = policy
        return
    import _socket

    guard = _Guard(policy)
    real = {
        "getaddrinfo": _socket.getaddrinfo,
        "gethostbyname": _socket.gethostbyname,
        "gethostbyname_ex": _socket.gethostbyname_ex,
        "gethostbyaddr": _socket.gethostbyaddr,
        "getnameinfo": _socket.getnameinfo,
    }
    real_create_connection = socket.create_connection
    base_socket = _socket.socket

    def refuse_lookup(name: str, port: int | None) -> None:
        message = guard.check_host(name, port)
        if message is not None:
            raise socket.gaierror(socket.EAI_NONAME, message)

    def getaddrinfo(host, port, *args, **kwargs):
        if host is None:
            return real["getaddrinfo"](host, port, *args, **kwargs)
        name, number = _name(host), _port_of(port)
        refuse_lookup(name, number)
        infos = guard.filter_answers(name, number, real["getaddrinfo"](host, port, *args, **kwargs))
        if not infos:
            raise socket.gaierror(socket.EAI_NONAME, f"mljobs network guard: {name} did not resolve to loopback")
        return infos

    def gethostbyname(host):
        return getaddrinfo(host, None, socket.AF_INET)[0][4][0]

    def gethostbyname_ex(host):
        refuse_lookup(_name(host), None)
        name, aliases, ips = real["gethostbyname_ex"](host)
        kept = [ip for _, _, _, _, (ip, *_) in guard.filter_answers(
            _name(host), None, [(0, 0, 0, "", (ip, 0)) for ip in ips])]
        if not kept:
            raise socket.gaierror(socket.EAI_NONAME, f"mljobs network guard: {_name(host)} did not resolve to loopback")
        return name, aliases, kept

    def gethostbyaddr(address):
        refuse_lookup(_name(address), None)  # a reverse lookup is DNS traffic too
        return real["gethostbyaddr"](address)

    def getnameinfo(sockaddr, flags):
        if isinstance(sockaddr, tuple) and sockaddr:
            refuse_lookup(_name(sockaddr[0]), _port_of(sockaddr[1]) if len(sockaddr) > 1 else None)
        return real["getnameinfo"](sockaddr, flags)

    def create_connection(address, *args, **kwargs):
        host, port = address[0], address[1]
        message = guard.check_host(str(host), _port_of(port))
        if message is not None:
            raise ConnectionRefusedError(errno.ECONNREFUSED, message)
        return real_create_connection(address, *args, **kwargs)

    def _inet_target(sock: object, address: object) -> tuple[str, int] | None:
        if getattr(sock, "family", None) not in (socket.AF_INET, socket.AF_INET6):
            return None  # unix sockets, netlink...: local by nature
        if isinstance(address, tuple) and len(address) >= 2:
            return _name(address[0]), int(address[1])
        return None

    def checked(method_name: str, returns_code: bool = False):
        def wrapper(self, address, *rest):
            target = _inet_target(self, address)
            if target is not None:
                message = guard.check_host(*target)
                if message is not None:
                    if returns_code:
                        return errno.ECONNREFUSED  # connect_ex reports errors as a value; check_host logged why
                    raise ConnectionRefusedError(errno.ECONNREFUSED, message)
            return getattr(base_socket, method_name)(self, address, *rest)

        wrapper.__name__ = method_name
        return wrapper

    def sendto(self, data, *rest):
        address = rest[-1] if rest else None  # sendto(data, address) or sendto(data, flags, address)
        target = _inet_target(self, address)
        if target is not None:
            message = guard.check_host(*target)
            if message is not None:
                raise ConnectionRefusedError(errno.ECONNREFUSED, message)
        return base_socket.sendto(self, data, *rest)

    def sendmsg(self, buffers, ancdata=(), flags=0, address=None):
        target = _inet_target(self, address) if address is not None else None
        if target is not None:
            message = guard.check_host(*target)
            if message is not None:
                raise ConnectionRefusedError(errno.ECONNREFUSED, message)
        if address is None:
            return base_socket.sendmsg(self, buffers, ancdata, flags)
        return base_socket.sendmsg(self, buffers, ancdata, flags, address)

    methods = {
        "connect": checked("connect"),
        "connect_ex": checked("connect_ex", returns_code=True),
        "sendto": sendto,
        "sendmsg": sendmsg,
    }
    guarded_type = type("socket", (base_socket,), {**methods, "__module__": "_socket", "__slots__": ()})
    for name, method in methods.items():
        setattr(socket.socket, name, method)  # the class socket.py already derived from the raw type
    _socket.socket = guarded_type  # type: ignore[misc, assignment]  # raw `_socket.socket()` and a reloaded socket.py
    _socket.SocketType = guarded_type  # type: ignore[assignment]
    lookups = {"getaddrinfo": getaddrinfo, "gethostbyname": gethostbyname, "gethostbyname_ex": gethostbyname_ex,
               "gethostbyaddr": gethostbyaddr, "getnameinfo": getnameinfo}
    for name, fn in lookups.items():
        setattr(_socket, name, fn)
        setattr(socket, name, fn)
    socket.create_connection = create_connection
    _guard_children()
    _installed = guard


def _keep_env_options(options: list[str]) -> list[str]:
    """A Python command line's options with `-I`/`-E` (which make it ignore PYTHONPATH, so the guard's
    sitecustomize) turned into `-s`; only options before the script, `-c` or `-m` are touched."""
    out: list[str] = []
    index = 0
    while index < len(options):
        option = options[index]
        if not option.startswith("-") or option.startswith("--") or option in ("-", "-c", "-m") or (
            len(option) > 2 and option[1] in "cmWX"
        ):
            return out + options[index:]
        if option in ("-W", "-X"):  # an option with a separate value: keep both
            out += options[index : index + 2]
            index += 2
            continue
        kept = option[1:].replace("I", "s").replace("E", "")
        if kept:
            out.append("-" + kept)
        index += 1
    return out


def _guard_children() -> None:
    """Child processes keep the guard: an `env=` without the guard's variables gets them back, and a
    child Python's `-I`/`-E` (which ignore PYTHONPATH, so the guard's sitecustomize) becomes `-s`."""
    import subprocess

    keep = {k: os.environ[k] for k in (CONFIG_ENV, "PYTHONPATH") if os.environ.get(k)}
    if CONFIG_ENV not in keep:
        return
    real_init = subprocess.Popen.__init__

    def init(self, args, *rest, **kwargs):
        env = kwargs.get("env")
        if env is None and any(os.environ.get(k) != v for k, v in keep.items()):
            env = dict(os.environ)  # the job removed the guard's variables from its own environment
        if env is not None:
            env = dict(env)
            env[CONFIG_ENV] = keep[CONFIG_ENV]
            if "PYTHONPATH" in keep:
                paths = [p for p in str(env.get("PYTHONPATH", "")).split(os.pathsep) if p and p != keep["PYTHONPATH"]]
                env["PYTHONPATH"] = os.pathsep.join([keep["PYTHONPATH"], *paths])
            kwargs["env"] = env
        if isinstance(args, (list, tuple)) and args and "python" in os.path.basename(str(args[0])):
            args = [args[0], *_keep_env_options(list(args[1:]))]
        real_init(self, args, *rest, **kwargs)

    subprocess.Popen.__init__ = init  # type: ignore[method-assign]


def load_policy(path: str) -> GuardPolicy:
    with open(path, encoding="utf-8") as fh:
        return GuardPolicy.from_config(json.load(fh))


def install_from_env() -> bool:
    """Install the guard configured by `$MLJOBS_NETGUARD` (a JSON file path); False when unset."""
    path = os.environ.get(CONFIG_ENV)
    if not path:
        return False
    install(load_policy(path))
    return True
