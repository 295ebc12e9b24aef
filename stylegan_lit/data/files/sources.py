"""Where image files come from: a folder (searched recursively) or a ZIP archive.

A source only lists and reads bytes; decoding lives in :mod:`image_io`. Files are listed in
sorted order of their relative path, so dataset index ``i`` names the same file on every
machine. Hidden files (``.DS_Store``, ``__MACOSX/``) are passed over silently; other files
without an image extension are listed in :attr:`ImageFiles.ignored` so a summary can say so.
"""

from __future__ import annotations

import io
import os
import zipfile
from abc import ABC, abstractmethod
from pathlib import Path
from typing import IO

from stylegan_lit.data.errors import DatasetError, Skipped
from stylegan_lit.data.files.image_io import IMAGE_EXTENSIONS, is_image_name

_ZIP_METHODS = {
    zipfile.ZIP_STORED,
    zipfile.ZIP_DEFLATED,
    zipfile.ZIP_BZIP2,
    zipfile.ZIP_LZMA,
}


def _hidden(relative: str) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in relative.split("/"))


def _not_an_image_file(name: str) -> Skipped:
    return Skipped(
        name, "not an image file", f"{name}: extension not in {', '.join(IMAGE_EXTENSIONS)}"
    )


class ImageFiles(ABC):
    """An ordered list of image files and a way to read each one's bytes.

    Attributes:
        root: The folder or archive, as given.
        names: Relative paths of the image files, sorted.
        ignored: Files that were not listed because they are not images.
    """

    def __init__(self, root: str, names: list[str], ignored: list[Skipped]) -> None:
        self.root = root
        self.names = names
        self.ignored = ignored

    def __len__(self) -> int:
        return len(self.names)

    @abstractmethod
    def read(self, index: int) -> bytes:
        """The bytes of file ``index``."""

    def open(self, index: int) -> IO[bytes]:
        """A binary file object on file ``index`` (for reading only a header)."""
        return io.BytesIO(self.read(index))


class FolderFiles(ImageFiles):
    """The image files under a folder, recursively (symbolic links to files are followed)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        path = Path(root)
        names: list[str] = []
        ignored: list[str] = []
        for directory, subdirs, files in os.walk(path):
            subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
            for file in files:
                relative = (Path(directory) / file).relative_to(path).as_posix()
                if _hidden(relative):
                    continue
                (names if is_image_name(file) else ignored).append(relative)
        super().__init__(str(root), sorted(names), [_not_an_image_file(n) for n in sorted(ignored)])

    def read(self, index: int) -> bytes:
        name = self.names[index]
        try:
            return (Path(self.root) / name).read_bytes()
        except OSError as exc:
            raise DatasetError(
                f"{name}: cannot read file ({exc.strerror})", reason="unreadable"
            ) from exc

    def open(self, index: int) -> IO[bytes]:
        name = self.names[index]
        try:
            return open(Path(self.root) / name, "rb")
        except OSError as exc:
            raise DatasetError(
                f"{name}: cannot read file ({exc.strerror})", reason="unreadable"
            ) from exc


class ZipFiles(ImageFiles):
    """The image files inside a ZIP archive (stored, deflated, bzip2 or LZMA members).

    The archive handle is opened lazily in each process and dropped when pickled, so the
    object can be sent to DataLoader workers (a ``ZipFile`` shared across a fork is not safe).
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        try:
            with zipfile.ZipFile(root) as archive:
                infos = archive.infolist()
        except (zipfile.BadZipFile, OSError) as exc:
            raise DatasetError(
                f"{root}: not a readable ZIP archive ({exc})", reason="corrupt"
            ) from exc
        names, ignored = [], []
        for info in infos:
            if info.is_dir() or _hidden(info.filename):
                continue
            if not is_image_name(info.filename):
                ignored.append(_not_an_image_file(info.filename))
            elif info.flag_bits & 0x1:
                ignored.append(Skipped(info.filename, "encrypted", f"{info.filename}: encrypted"))
            elif info.compress_type not in _ZIP_METHODS:
                ignored.append(
                    Skipped(
                        info.filename,
                        "unsupported compression",
                        f"{info.filename}: ZIP compression method {info.compress_type} is not "
                        "supported (use stored or deflated)",
                    )
                )
            else:
                names.append(info.filename)
        super().__init__(str(root), sorted(names), sorted(ignored, key=lambda s: s.name))
        self._archive: zipfile.ZipFile | None = None
        self._pid = -1

    def _handle(self) -> zipfile.ZipFile:
        if self._archive is None or self._pid != os.getpid():
            self._archive = zipfile.ZipFile(self.root)
            self._pid = os.getpid()
        return self._archive

    def read(self, index: int) -> bytes:
        name = self.names[index]
        try:
            return self._handle().read(name)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise DatasetError(
                f"{self.root}:{name}: cannot extract from the archive ({exc})", reason="corrupt"
            ) from exc

    def __getstate__(self) -> dict[str, object]:
        state = self.__dict__.copy()
        state["_archive"], state["_pid"] = None, -1
        return state


def open_image_files(path: str | os.PathLike[str]) -> ImageFiles:
    """List the images of a folder or ZIP archive.

    Raises:
        DatasetError: When the path does not exist, is neither a folder nor a ZIP archive,
            or holds no image file.
    """
    source = Path(path)
    if not source.exists():
        raise DatasetError(f"{path}: no such file or folder", reason="missing")
    if source.is_dir():
        files: ImageFiles = FolderFiles(source)
    elif zipfile.is_zipfile(source):
        files = ZipFiles(source)
    else:
        raise DatasetError(
            f"{path}: not a folder or a ZIP archive of images (nor a prepared cache)",
            reason="not a dataset",
        )
    if not files.names:
        others = f" ({len(files.ignored)} other files ignored)" if files.ignored else ""
        raise DatasetError(
            f"{path}: no image files found{others}; expected {', '.join(IMAGE_EXTENSIONS)}",
            reason="empty",
        )
    return files
