"""Zip archives from users (a region model upload, an .xlsx table), read within limits.

A zip can say "10 kB" and unpack to gigabytes (a zip bomb), or carry a 1 GiB file next to
the model. Every entry is read in chunks, counting the bytes as they come out of the
decompressor, so that a limit holds whatever the archive's header claims: at most
``MAX_FILES`` files, ``MAX_FILE_BYTES`` per file, ``MAX_TOTAL_BYTES`` together, and at most
``MAX_RATIO`` times the compressed size per file (text tables compress 5-20 times). What
is over a limit is refused with the file named, never stored and never unpacked again.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from capaciteit.core import nl
from capaciteit.errors import Problem

MAX_FILES = 50
MAX_FILE_BYTES = 25_000_000
MAX_TOTAL_BYTES = 50_000_000
MAX_RATIO = 200
_CHUNK = 1 << 16


@dataclass(frozen=True)
class Limits:
    """The limits an archive is read within."""

    files: int = MAX_FILES
    file_bytes: int = MAX_FILE_BYTES
    total_bytes: int = MAX_TOTAL_BYTES
    ratio: float = MAX_RATIO


def _mb(n: int) -> str:
    return f"{nl.number(n / 1_000_000)} MB"


def zip_problems(infos: list[zipfile.ZipInfo], name: str, limits: Limits) -> list[Problem]:
    """Problems of an archive's table of contents (file count, declared sizes, ratios)."""
    files = [i for i in infos if not i.is_dir()]
    problems = []
    if len(files) > limits.files:
        problems.append(
            Problem(
                name,
                f"bevat {nl.number(len(files))} bestanden; hoogstens {limits.files}.",
                "Zip alleen model.yaml en de tabellen.",
            )
        )
    total = sum(i.file_size for i in files)
    if total > limits.total_bytes:
        problems.append(
            Problem(
                name,
                f"pakt uit tot {_mb(total)}; hoogstens {_mb(limits.total_bytes)}.",
                "Zip alleen model.yaml en de tabellen.",
            )
        )
    for info in files:
        if info.file_size > limits.file_bytes:
            problems.append(
                Problem(
                    info.filename,
                    f"is uitgepakt {_mb(info.file_size)}; hoogstens {_mb(limits.file_bytes)}.",
                    "Upload een kleiner bestand.",
                )
            )
        elif info.file_size > limits.ratio * max(info.compress_size, 1) and info.file_size > 1e6:
            problems.append(
                Problem(
                    info.filename,
                    "is verdacht sterk ingepakt (een zip-bom?).",
                    "Upload de bestanden zelf, of een gewone zip van model.yaml en de tabellen.",
                )
            )
    return problems


def unpack(
    data: bytes,
    name: str,
    keep: Callable[[str], bool] = lambda _: True,
    limits: Limits = Limits(),
) -> tuple[dict[str, bytes], list[Problem]]:
    """Read the files of the zip ``data`` within ``limits``; refuse names ``keep`` rejects.

    Returns the files by their path in the archive, and the problems (nothing is returned
    when there is any problem).
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return {}, [Problem(name, "is geen zip-bestand.", "Upload een geldig .zip-bestand.")]
    with zf:
        infos = zf.infolist()
        problems = zip_problems(infos, name, limits)
        for info in infos:
            path = PurePosixPath(info.filename.replace("\\", "/"))
            if path.is_absolute() or ".." in path.parts:
                problems.append(
                    Problem(
                        info.filename,
                        "is geen gewone bestandsnaam.",
                        "Zip de bestanden zonder '..' of een pad vanaf de schijf.",
                    )
                )
            elif not info.is_dir() and not keep(path.name):
                problems.append(
                    Problem(
                        info.filename,
                        "hoort niet bij een regiomodel.",
                        "Laat het weg: een regiomodel is model.yaml en tabellen (.csv, .xlsx).",
                    )
                )
        if problems:
            return {}, problems
        out: dict[str, bytes] = {}
        total = 0
        for info in infos:
            if info.is_dir():
                continue
            chunks, size = [], 0
            try:
                with zf.open(info) as stream:
                    while chunk := stream.read(_CHUNK):
                        size += len(chunk)
                        total += len(chunk)
                        if size > limits.file_bytes or total > limits.total_bytes:
                            return {}, [
                                Problem(
                                    info.filename,
                                    "pakt uit tot meer dan is toegestaan "
                                    f"({_mb(limits.file_bytes)} per bestand, "
                                    f"{_mb(limits.total_bytes)} samen).",
                                    "Upload kleinere bestanden.",
                                )
                            ]
                        chunks.append(chunk)
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError) as exc:
                return {}, [
                    Problem(
                        info.filename,
                        f"kan niet worden uitgepakt (technische melding: {type(exc).__name__}).",
                        "Maak de zip opnieuw, zonder wachtwoord.",
                    )
                ]
            out[str(PurePosixPath(info.filename.replace("\\", "/")))] = b"".join(chunks)
        return out, []


def xlsx_problems(path: Path, limits: Limits = Limits()) -> list[Problem]:
    """Problems of an .xlsx workbook (itself a zip) before a reader unpacks it."""
    try:
        with zipfile.ZipFile(path) as zf:
            return zip_problems(zf.infolist(), path.name, limits)
    except (zipfile.BadZipFile, OSError):
        return []  # the table reader says what is wrong with it


def unpack_model(archive: bytes, target: Path) -> Path:
    """Unpack a region model archive into ``target`` (within limits); return the model folder.

    The model folder is ``target`` itself, or the folder in it that holds ``model.yaml``.
    """
    from capaciteit.errors import InvalidInputError

    contents, problems = unpack(archive, "upload")
    try:
        for name, data in contents.items():
            path = target / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    except OSError as exc:
        problems.append(
            Problem(
                "upload",
                f"de bestanden kunnen niet worden uitgepakt (technische melding: "
                f"{type(exc).__name__}).",
                "Upload model.yaml en de tabellen met korte, verschillende bestandsnamen.",
            )
        )
    if problems:
        raise InvalidInputError("De upload van het regiomodel", problems)
    target.mkdir(parents=True, exist_ok=True)
    if (target / "model.yaml").is_file():
        return target
    inner = [p.parent for p in target.rglob("model.yaml")]
    return inner[0] if inner else target
