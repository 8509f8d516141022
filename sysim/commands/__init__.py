"""Subcommands of the ``sysim`` command line, one module each (see sysim.cli.COMMANDS)."""
