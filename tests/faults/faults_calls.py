"""One real call per operation, for the parametrised proofs: each callable performs the
operation on files under `tmp`. Each looks the function up at call time (`os.replace`, not a
reference taken at import), as code under test does."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

Names = tuple[str | None, str | None]
Call = Callable[[Path], Names]

TRUE = [sys.executable, "-c", "pass"]


def _file(tmp: Path, name: str = "f.txt") -> Path:
    path = tmp / name
    path.write_text("hello world\n")
    return path


def _with_file(method: str) -> Call:
    def call(tmp: Path) -> Names:
        path = _file(tmp)
        with open(path, "r+") as handle:
            if method == "read":
                handle.read()
            elif method == "write":
                handle.write("x")
            elif method == "flush":
                handle.flush()
            elif method == "fileno":
                handle.fileno()
            elif method == "close":
                handle.close()
        return None, None

    return call


def _fd(method: str) -> Call:
    def call(tmp: Path) -> Names:
        fd = os.open(_file(tmp), os.O_RDWR)
        try:
            if method == "read":
                os.read(fd, 10)
            elif method == "write":
                os.write(fd, b"data")
            else:
                os.fsync(fd)
        finally:
            os.close(fd)
        return None, None

    return call


def _two(module: object, name: str, *, source_dir: bool = False) -> Call:
    def call(tmp: Path) -> Names:
        func = getattr(module, name)  # looked up at call time, as code under test does
        if source_dir:
            source = tmp / "src"
            source.mkdir()
        else:
            source = _file(tmp)
        target = tmp / "dst"
        func(str(source), str(target))
        return str(source), str(target)

    return call


def _one(module: object, name: str, *, make: str = "file") -> Call:
    def call(tmp: Path) -> Names:
        func = getattr(module, name)
        if make == "file":
            path = _file(tmp)
        elif make == "dir":
            path = tmp / "d"
            path.mkdir()
        else:
            path = tmp / "new"
        func(str(path))
        return str(path), None

    return call


def _socket(method: str) -> Call:
    def call(tmp: Path) -> Names:
        left, right = socket.socketpair()
        with left, right:
            if method == "connect":
                with socket.socket(socket.AF_UNIX) as other:
                    other.connect(str(tmp / "sock"))
            elif method == "send":
                left.send(b"data")
            elif method == "sendall":
                left.sendall(b"data")
            elif method == "sendto":
                left.sendto(b"data", str(tmp / "sock"))
            else:
                right.send(b"data")
                if method == "recv":
                    left.recv(10)
                else:
                    left.recv_into(bytearray(10))
        return None, None

    return call


def _sqlite(method: str) -> Call:
    def call(tmp: Path) -> Names:
        connection = sqlite3.connect(tmp / "db.sqlite")
        try:
            if method == "execute":
                connection.execute("create table t (x)")
            elif method == "commit":
                connection.commit()
        finally:
            connection.close()
        return None, None

    return call


def _open_close(path: str) -> None:
    open(path, "x").close()  # exclusive creation: every open(2) errno can happen


def _os_open_close(path: str) -> None:
    os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL))


def _scandir(path: str) -> None:
    os.scandir(path).close()


def _chmod(path: str) -> None:
    os.chmod(path, 0o600)


CALLS: dict[str, Call] = {
    "open": _one(sys.modules[__name__], "_open_close", make="new"),
    "os.open": _one(sys.modules[__name__], "_os_open_close", make="new"),
    "file.read": _with_file("read"),
    "file.write": _with_file("write"),
    "file.flush": _with_file("flush"),
    "file.close": _with_file("close"),
    "file.fileno": _with_file("fileno"),
    "os.read": _fd("read"),
    "os.write": _fd("write"),
    "os.fsync": _fd("fsync"),
    "os.replace": _two(os, "replace"),
    "os.rename": _two(os, "rename"),
    "os.unlink": _one(os, "unlink"),
    "os.remove": _one(os, "remove"),
    "os.mkdir": _one(os, "mkdir", make="new"),
    "os.makedirs": _one(os, "makedirs", make="new"),
    "os.rmdir": _one(os, "rmdir", make="dir"),
    "os.link": _two(os, "link"),
    "os.symlink": _two(os, "symlink"),
    "os.kill": lambda tmp: (os.kill(os.getpid(), 0), (None, None))[1],
    "os.listdir": _one(os, "listdir", make="dir"),
    "os.scandir": _one(sys.modules[__name__], "_scandir", make="dir"),
    "os.stat": _one(os, "stat"),
    "os.chmod": _one(sys.modules[__name__], "_chmod"),
    "shutil.copy": _two(shutil, "copy"),
    "shutil.copy2": _two(shutil, "copy2"),
    "shutil.copyfile": _two(shutil, "copyfile"),
    "shutil.copytree": _two(shutil, "copytree", source_dir=True),
    "shutil.move": _two(shutil, "move"),
    "shutil.rmtree": _one(shutil, "rmtree", make="dir"),
    "subprocess.run": lambda tmp: (subprocess.run(TRUE, timeout=30, check=False), (TRUE[0], None))[
        1
    ],
    "subprocess.Popen": lambda tmp: (subprocess.Popen(TRUE).wait(30), (TRUE[0], None))[1],
    "subprocess.call": lambda tmp: (subprocess.call(TRUE, timeout=30), (TRUE[0], None))[1],
    "subprocess.check_call": lambda tmp: (
        subprocess.check_call(TRUE, timeout=30),
        (TRUE[0], None),
    )[1],
    "subprocess.check_output": lambda tmp: (
        subprocess.check_output(TRUE, timeout=30),
        (TRUE[0], None),
    )[1],
    "socket.connect": _socket("connect"),
    "socket.send": _socket("send"),
    "socket.sendall": _socket("sendall"),
    "socket.sendto": _socket("sendto"),
    "socket.recv": _socket("recv"),
    "socket.recv_into": _socket("recv_into"),
    "sqlite3.connect": _sqlite("connect"),
    "sqlite3.execute": _sqlite("execute"),
    "sqlite3.commit": _sqlite("commit"),
}
