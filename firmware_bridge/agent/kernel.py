# sysim firmware agent: the kernel. Runs unchanged under CPython, the MicroPython unix port and a
# MicroPython board, so it keeps to the language subset they share (no f-strings, no typing, no
# dataclasses). The host concatenates kernel.py and machine_api.py into one namespace.
#
# Firmware time is simulated time. The kernel holds the time of the present code segment (the
# code that runs between two blocking calls) and asks the host, over a line protocol, to charge
# that segment's active time and then to put the MCU in a state until an absolute time:
#
#   host -> agent   C <proto> <active_ns> <freq_hz> <fmin> <fmax> <uid_hex> <adcs> <pins>
#                   B <cause> <t_ns> <rtc_offset_ns> <mem_hex|-> <uv,uv,..|->   boot
#                   W <t_ns> <uv,..|->   wake        V <uv,..|->   fresh ADC readings
#                   K   reset now (brown-out, watchdog)      Q   quit
#   agent -> host   H sysim-agent <proto> <impl>     P <pin> <0|1>     O <text>     F <hz>
#                   T <rtc_offset_ns>   M <hex|->    A   (wants V)
#                   S <b|l|i> <until_ns|-1> <wdt_deadline_ns|-1>  (wants W or K)
#                   D <until_ns|-1>   X <traceback>   E <wdt_deadline_ns|-1>   Z <hard|soft>
#
# Only S and A wait for an answer; everything else is buffered and goes out with the next request,
# so a wake costs one round trip.

PROTOCOL = 1
TICKS_PERIOD = 1 << 30          # as on 32-bit ports (small-int ticks)
TICKS_MAX = TICKS_PERIOD - 1
TICKS_HALF = TICKS_PERIOD // 2
PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5
TIMER_WAKE = 4
RTC_MEMORY_MAX = 2048           # bytes (the ESP32 port's RTC user memory)
_EPOCH_2000_S = 946684800


class Reset(BaseException):
    """Unwinds the firmware at a reset (brown-out, watchdog, deep sleep, machine.reset)."""


class AgentQuit(BaseException):
    """The host ended the session."""


class ProtocolFault(Exception):
    pass


def escape(text):
    out = []
    for ch in text:
        o = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif o < 32 or o == 127:
            out.append("\\x%02x" % o)
        else:
            out.append(ch)
    return "".join(out)


def unhex(text):
    return bytes([int(text[i:i + 2], 16) for i in range(0, len(text), 2)])


def _ints(field):
    if field == "-":
        return []
    return [int(x) for x in field.split(",")]


class Link:
    """Lines over a pair of byte streams (MicroPython fds, a board's stdin/stdout)."""

    def __init__(self, read_line, write):
        self._read_line = read_line
        self._write = write
        self._out = []

    def send(self, line):
        self._out.append(line)

    def flush(self):
        if self._out:
            self._out.append("")
            self._write("\n".join(self._out))
            self._out = []

    def recv(self):
        self.flush()
        line = self._read_line()
        if not line:
            raise AgentQuit()
        if isinstance(line, bytes):
            line = line.decode()
        return line.strip()


class Timer_:
    # kernel-side record of one machine.Timer
    def __init__(self, owner):
        self.owner = owner
        self.period_ns = 0
        self.due = -1
        self.periodic = True
        self.callback = None


class Kernel:
    def __init__(self, link):
        self.link = link
        self.t = 0
        self.dead = True
        self.cause = PWRON_RESET
        self.wake = 0
        self.rtc_offset = 0
        self.memory = b""
        self.freq = 0
        self.adc_uv = []
        self.adc_fresh = False
        self.pins = {}
        self.levels = {}
        self.timers = []
        self.wdt_timeout = -1
        self.wdt_deadline = -1
        self.partial = ""

    # --- configuration and boot -------------------------------------------------------------
    def configure(self, line):
        f = line.split(" ")
        if len(f) != 9 or f[0] != "C" or int(f[1]) != PROTOCOL:
            raise ProtocolFault("bad configuration line: " + line[:80])
        self.active_ns = int(f[2])
        self.freq = int(f[3])
        self.freq_min = int(f[4])
        self.freq_max = int(f[5])
        self.uid = unhex(f[6])
        self.adcs = {}
        self.adc_bits = []
        self.adc_fs = []
        if f[7] != "-":
            for k, item in enumerate(f[7].split(",")):
                name, bits, fs = item.split(":")
                self.adcs[name] = k
                self.adc_bits.append(int(bits))
                self.adc_fs.append(int(fs))
        self.pins = {}
        if f[8] != "-":
            for name in f[8].split(","):
                self.pins[name] = 1

    def boot(self, line):
        f = line.split(" ")
        if len(f) != 6 or f[0] != "B":
            raise ProtocolFault("expected a boot line, got: " + line[:80])
        self.cause = int(f[1])
        self.wake = TIMER_WAKE if self.cause == DEEPSLEEP_RESET else 0
        self.t = int(f[2])
        self.rtc_offset = int(f[3])
        self.memory = b"" if f[4] == "-" else unhex(f[4])
        self._set_adc(f[5])
        self.levels = {}
        self.timers = []
        self.wdt_timeout = -1
        self.wdt_deadline = -1
        self.partial = ""
        self.dead = False

    def _set_adc(self, field):
        self.adc_uv = _ints(field)
        if len(self.adc_uv) != len(self.adc_bits):
            raise ProtocolFault("expected %d ADC readings, got %d" % (len(self.adc_bits), len(self.adc_uv)))
        self.adc_fresh = True

    def check(self):
        if self.dead:
            raise Reset()

    # --- the host round trip ------------------------------------------------------------------
    def request(self, kind, until):
        self.check()
        self.flush_print()
        self.link.send("S %s %d %d" % (kind, until, self.wdt_deadline))
        self._await_wake()

    def _await_wake(self):
        line = self.link.recv()
        if line[:2] == "W ":
            f = line.split(" ")
            if len(f) != 3:
                raise ProtocolFault("bad wake line: " + line[:80])
            t = int(f[1])
            if t < self.t:
                raise ProtocolFault("time went backwards")
            self.t = t
            self._set_adc(f[2])
            return
        if line == "K":
            self.dead = True
            raise Reset()
        if line == "Q":
            self.dead = True
            raise AgentQuit()
        raise ProtocolFault("expected W, K or Q, got: " + line[:80])

    def end(self, message):
        """Tell the host why the script stopped (it answers with the next boot)."""
        self.flush_print()
        self.dead = True
        self.timers = []
        self.link.send(message)

    # --- blocking calls -------------------------------------------------------------------------
    def sleep_until(self, kind, until):
        """Busy (b), light (l) or idle (i) until absolute time ``until`` (ns, -1 = forever);
        timer callbacks run when due; light sleep and idle return after one."""
        while True:
            due = self.next_due()
            early = due >= 0 and (until < 0 or due < until)
            self.request(kind, due if early else until)
            if not early:
                return
            self.run_timers()
            if kind != "b" or (until >= 0 and self.t >= until):
                return

    def deepsleep(self, until):
        self.check()
        self.end("D %d" % until)
        raise Reset()

    def reset(self, how):
        self.check()
        self.end("Z " + how)
        raise Reset()

    # --- timers and watchdog --------------------------------------------------------------------
    def next_due(self):
        best = -1
        for tm in self.timers:
            if tm.due >= 0 and (best < 0 or tm.due < best):
                best = tm.due
        return best

    def run_timers(self):
        for tm in list(self.timers):
            if tm.due >= 0 and tm.due <= self.t:
                if tm.periodic:
                    while tm.due <= self.t:
                        tm.due += tm.period_ns
                else:
                    tm.due = -1
                    self.timers.remove(tm)
                try:
                    tm.callback(tm.owner)
                except Exception as exc:  # as on silicon: reported, the timer is disabled
                    self.print_text("Uncaught exception in Timer callback\n" + format_exception(exc))
                    if tm in self.timers:
                        self.timers.remove(tm)

    def wdt_feed(self):
        self.check()
        if self.wdt_timeout >= 0:
            self.wdt_deadline = self.t + self.wdt_timeout

    # --- state the host keeps -------------------------------------------------------------------
    def pin_write(self, name, level):
        self.check()
        if self.levels.get(name) == level:
            return
        self.levels[name] = level
        if name in self.pins:
            self.link.send("P %s %d" % (name, level))
            self.adc_fresh = False

    def adc(self, k):
        self.check()
        if not self.adc_fresh:
            self.link.send("A")
            line = self.link.recv()
            if line[:2] != "V ":
                if line == "Q":
                    raise AgentQuit()
                raise ProtocolFault("expected V, got: " + line[:80])
            self._set_adc(line[2:])
        return self.adc_uv[k]

    def set_rtc(self, epoch_ns):
        self.check()
        self.rtc_offset = epoch_ns - self.t
        self.link.send("T %d" % self.rtc_offset)

    def set_memory(self, data):
        self.check()
        if len(data) > RTC_MEMORY_MAX:
            raise ValueError("RTC memory holds at most %d bytes" % RTC_MEMORY_MAX)
        self.memory = bytes(data)
        self.link.send("M " + ("".join("%02x" % b for b in self.memory) or "-"))

    def set_freq(self, hz):
        self.check()
        if not self.freq_min <= hz <= self.freq_max:
            raise ValueError("frequency %d Hz is outside %d..%d Hz" % (hz, self.freq_min, self.freq_max))
        self.freq = hz
        self.link.send("F %d" % hz)

    # --- print ----------------------------------------------------------------------------------
    def print_text(self, text):
        if self.dead:
            return
        text = self.partial + text
        lines = text.split("\n")
        self.partial = lines.pop()
        for line in lines:
            self.link.send("O " + escape(line))

    def flush_print(self):
        if self.partial:
            self.link.send("O " + escape(self.partial))
            self.partial = ""

    def print(self, *args, **kw):
        sep = kw.get("sep", " ")
        end = kw.get("end", "\n")
        self.print_text((" " if sep is None else sep).join([str(a) for a in args]) + ("\n" if end is None else end))


def format_exception(exc):
    import sys
    if hasattr(sys, "print_exception"):
        import io
        buf = io.StringIO()
        sys.print_exception(exc, buf)
        return buf.getvalue()
    import traceback
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


_K = None


def serve(link, implementation, run_script):
    """The agent's life: hello, configuration, then boots until the host says Q.

    ``run_script()`` executes the firmware once in a fresh namespace."""
    global _K
    _K = Kernel(link)
    link.send("H sysim-agent %d %s" % (PROTOCOL, implementation))
    _K.configure(link.recv())
    while True:
        line = link.recv()
        if line == "Q":
            link.flush()
            return
        if line == "K":
            continue  # a reset that crossed our own end message
        _K.boot(line)
        outcome = None
        try:
            run_script()
            outcome = "E %d" % _K.wdt_deadline
        except (Reset, KeyboardInterrupt):
            pass
        except AgentQuit:
            return
        except SystemExit:
            outcome = "E %d" % _K.wdt_deadline
        except ProtocolFault:
            raise
        except Exception as exc:
            outcome = "X " + escape(format_exception(exc))
        if outcome is not None and not _K.dead:
            _K.end(outcome)
        _K.dead = True
