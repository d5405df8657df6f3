"""Manual directories of the builders that otherwise download (or use a package).

TFDS always hands the download manager a manual directory: the one of the
``DownloadConfig``, else ``<data_dir>/downloads/manual``, a folder shared by
every dataset. ``dl_manager.manual_dir`` raises ``AssertionError`` both when
that default folder is absent and when a *given* folder does not exist, so a
builder cannot tell a mistyped path from "none given" through it: a typo used
to become a silent download of the whole dataset (offline: a hang in retries).

:class:`ManualDirMixin` records the ``DownloadConfig``'s ``manual_dir`` and
applies one rule, shared by ``quickdraw``, ``omniglot_strokes``,
``hanzi_medians``, ``kanjivg`` and ``hershey``:

* a manual directory that was **given** must exist and hold the builder's files,
  else the build stops with :func:`no_files_error` (a ``FileNotFoundError``
  naming the directory, what was expected and what was found);
* with **none given**, the default folder is used if it holds the builder's
  files (as TFDS documents), else the builder downloads (or reads its installed
  package) and logs so.

Example:
  >>> import tempfile, pathlib
  >>> root = pathlib.Path(tempfile.mkdtemp())
  >>> contents(root / "typo"), contents(root)
  ('it does not exist', 'it is empty')
  >>> (root / "full_simplified_panda.ndjson").touch()
  >>> contents(root)
  "it holds 'full_simplified_panda.ndjson'"
"""

from __future__ import annotations

from etils import epath

_SHOWN = 5  # Entries of a folder quoted in an error message.


class ManualDirMixin:
    """Records whether the user gave a manual directory (mix in before the TFDS builder)."""

    _given_manual_dir = None

    def _download_and_prepare(self, dl_manager, download_config, *args, **kwargs):
        self._given_manual_dir = download_config.manual_dir
        return super()._download_and_prepare(dl_manager, download_config, *args, **kwargs)

    def _manual_dir(self, dl_manager) -> tuple[epath.Path | None, bool]:
        """``(folder, given)``: the manual directory to read, and whether the user gave it.

        ``(path, True)`` for the ``DownloadConfig``'s ``manual_dir``, whether or not
        it exists (the caller raises :func:`no_files_error` if it lacks the files);
        else ``(default folder, False)``, or ``(None, False)`` if that is absent or empty.
        """
        if self._given_manual_dir is not None:
            return epath.Path(self._given_manual_dir).expanduser(), True
        try:
            return dl_manager.manual_dir, False
        except AssertionError:  # The default folder is absent or empty.
            return None, False

    def _manual_subfolder(self, dl_manager, sub: str, pattern: str, **error) -> epath.Path | None:
        """The manual directory's ``sub/`` folder if it holds ``pattern`` files, else None
        (use the installed package).

        Raises:
          FileNotFoundError: :func:`no_files_error` with ``error`` (``dataset``,
            ``missing``, ``expected``, ``fallback``), if a manual directory was given
            without such files.
        """
        root, given = self._manual_dir(dl_manager)
        folder = root / sub if root is not None else None
        if folder is not None and folder.is_dir() and any(folder.glob(pattern)):
            return folder
        if given:
            raise no_files_error(root=root, sub=sub, **error)
        return None


def contents(folder: epath.PathLike, sub: str | None = None) -> str:
    """What a folder holds, for error messages: ``"it does not exist"``, ``"it is
    empty"``, ``"it holds 'a', 'b' and 3 more"``; with ``sub``, the subfolder's if
    it exists (``"kanji/ is empty"``)."""
    folder = epath.Path(folder)
    what = "it"
    if sub is not None and (folder / sub).exists():
        folder, what = folder / sub, f"{sub}/"
    if not folder.exists():
        return f"{what} does not exist"
    if not folder.is_dir():
        return f"{what} is not a folder"
    names = sorted(p.name for p in folder.iterdir())
    if not names:
        return f"{what} is empty"
    more = f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else ""
    return f"{what} holds {', '.join(repr(n) for n in names[:_SHOWN])}{more}"


def no_files_error(dataset: str, root: epath.PathLike, missing: str, expected: str,
                   fallback: str, sub: str | None = None) -> FileNotFoundError:
    """The error for a given manual directory that holds none of the builder's files.

    Args:
      dataset: the builder's name, which starts the message.
      root: the manual directory given.
      missing: what it lacks, e.g. ``"class files of config 'heldout_45_ndjson'"``.
      expected: the file naming, e.g. ``"<class>.ndjson per class, e.g. 'cat.ndjson'"``.
      fallback: what happens without a manual directory, e.g. ``"download the files"``.
      sub: a subfolder the files belong in (``"kanji"``), described if present.
    """
    return FileNotFoundError(
        f"{dataset}: the manual directory {root} has no {missing} (expected {expected}): "
        f"{contents(root, sub)}. Fix the path or the file names, or give no manual "
        f"directory to {fallback}.")
