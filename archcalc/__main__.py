"""``python -m archcalc`` and the ``archcalc`` command: one CLI run as a process of its own."""
import gc
import sys


def run():
    """Run the CLI with the process's arguments and exit with its status.

    What a start-up imports lives until the process ends, so the garbage collector's
    passes over it find nothing: while importing, and over every object at exit (about
    9 ms of a 60 ms ``archcalc table``).  They are skipped: collection is off while
    importing, and what exists is frozen (gc.freeze) after the imports and before exit.
    Collection stays on for the command itself.  Only this process's entry point does
    this, never an import of archcalc.cli into another program."""
    gc.disable()
    from .cli import main

    gc.freeze()
    gc.enable()
    status = main()
    gc.freeze()
    sys.exit(status)


if __name__ == "__main__":
    run()
