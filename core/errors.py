"""The one error type the CLI turns into a one-line message and a non-zero exit."""


class NeocogError(Exception):
    """A user-facing error: bad input file, bad option, wrong checkpoint.

    The message names the offending file or value; the CLI prints it on one line.
    """
