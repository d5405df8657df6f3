"""The error raised for unreadable input files of the dataset builders.

Every builder of ``tfds_builders`` raises :class:`DataFileError` for a corrupt,
truncated or wrongly formatted input file, with the file (and, where it helps,
the line or archive member) named first in the message. Nothing is skipped
silently: drawings that are valid but unusable (too long, degenerate) are
dropped by the builders and counted in the dataset metadata instead.

Example:
  >>> err = DataFileError("cat.ndjson:3: invalid JSON (the file may be truncated)")
  >>> isinstance(err, ValueError), str(err).startswith("cat.ndjson:3")
  (True, True)
"""


class DataFileError(ValueError):
    """An input file is corrupt, truncated or not in the expected format."""
