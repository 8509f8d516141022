# sysim firmware agent: entry point under the MicroPython unix port.
#   micropython unix_main.py AGENT_DIR SCRIPT FD_IN FD_OUT [SPIN_US]
#   (SPIN_US: how long to poll for the host's next line before blocking, channels.SPIN_WAIT_US)
# The protocol runs over FD_IN/FD_OUT (pipes from the host); the firmware's own stdout is not used.
import select
import sys
import time


def main():
    agent_dir, script, fd_in, fd_out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    spin_us = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    ns = {"__name__": "sysim_agent"}
    for name in ("kernel.py", "machine_api.py"):
        with open(agent_dir + "/" + name) as f:
            exec(f.read(), ns)
    ns["install"](["machine", "time"])
    import builtins
    builtins.print = lambda *a, **k: ns["_K"].print(*a, **k)

    slash = script.rfind("/")
    script_dir, script_name = (script[:slash], script[slash + 1:]) if slash >= 0 else (".", script)
    sys.path.insert(0, script_dir)
    with open(script) as f:
        code = compile(f.read(), script_name, "exec")

    inp = open(fd_in, "rb")
    out = open(fd_out, "wb")
    readline = inp.readline
    if spin_us:
        # time and select are the interpreter's own: install() has not replaced them here
        poller = select.poll()
        poller.register(inp, select.POLLIN)

        def readline():
            t0 = time.ticks_us()
            while not poller.poll(0):
                if time.ticks_diff(time.ticks_us(), t0) >= spin_us:
                    break  # nothing yet: block in readline
            return inp.readline()

    link = ns["Link"](readline, lambda text: out.write(text.encode()))

    def run_script():
        before = list(sys.modules)
        try:
            exec(code, {"__name__": "__main__", "__file__": script})
        finally:
            for mod in list(sys.modules):  # a reset forgets the firmware's own modules
                if mod not in before:
                    del sys.modules[mod]

    ns["serve"](link, "micropython-" + ".".join(str(v) for v in sys.implementation.version[:3]), run_script)


main()
