"""Exceptions shared across the core package."""


class CommandError(Exception):
    """A command-line failure caused by the input; printed without a traceback.

    It lives outside ``core.cli`` because ``python -m core.cli`` runs that module
    as ``__main__``: a class defined there would not be the one that command
    modules import, and ``main()`` would not catch what they raise.
    """
