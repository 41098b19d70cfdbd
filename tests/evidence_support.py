"""Shared by the evidence pack tests: unzip a pack safely and read its manifest."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path, PurePosixPath


def unzip(body: bytes, target: Path) -> Path:
    """Extract a pack after checking every name is relative and inside one folder; the
    folder's path."""
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        names = archive.namelist()
        folders = set()
        for name in names:
            path = PurePosixPath(name)
            assert not path.is_absolute() and not name.startswith(("/", "\\")), name
            assert ".." not in path.parts and "\\" not in name and ":" not in name, name
            folders.add(path.parts[0])
        assert len(folders) == 1, folders
        archive.extractall(target)
    return target / folders.pop()


def manifest_problems(folder: Path) -> list[str]:
    """What ``sha256sum -c SHA256SUMS`` would report, hashes recomputed here; and the
    files of the folder the manifest does not list."""
    problems = []
    listed = set()
    for line in (folder / "SHA256SUMS").read_text(encoding="ascii").splitlines():
        digest, name = line.split("  ", 1)
        listed.add(name)
        path = folder / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            problems.append(f"{name}: FAILED")
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {
        "SHA256SUMS",
        "ket_qua_R.csv",
    }
    problems += [f"{name}: not in the manifest" for name in sorted(present - listed)]
    return problems
