# sysim firmware agent: entry point on a board (serial runner). The host sends kernel.py, the mode's
# API (machine_api.py for hardware in the loop, realcell_api.py for the real cell), then
# `_MODE = ...; _SCRIPT = ...; _NAME = ...` and this file, through the raw REPL; the protocol then
# runs over the REPL's own stdin/stdout. Nothing is written to the board's flash.


def _board_main():
    import sys
    if _MODE == "hil":
        install(["machine", "time"])
        kprint = lambda *a, **k: _K.print(*a, **k)  # noqa: E731
    else:
        install_realcell()
        kprint = rc_print
    saved = None
    try:
        import builtins
        saved = builtins.print
        builtins.print = kprint
    except Exception:  # a port that cannot override builtins: the script's own prints still go to us
        pass
    code = compile(_SCRIPT, _NAME, "exec")
    stdin = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else sys.stdin
    link = Link(stdin.readline, sys.stdout.write)

    def run_script():
        exec(code, {"__name__": "__main__", "print": kprint})

    try:
        if _MODE == "hil":
            serve(link, "board-" + sys.platform, run_script)
        else:
            serve_realcell(link, "board-" + sys.platform, run_script)
    finally:
        for name in ("machine", "time", "umachine", "utime"):
            if name in sys.modules:
                del sys.modules[name]
        if saved is not None:
            import builtins
            builtins.print = saved


_board_main()
