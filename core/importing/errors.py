"""The error raised when a whole file cannot be imported."""

from __future__ import annotations


class ImportFailure(Exception):
    """Raised when a file as a whole cannot be read, mapped or written.

    The message states what is wrong with the file and what to do; problems of
    single cells are collected in a validation report instead.
    """
