# sysim firmware agent: the emulated `machine`, `time` and `micropython` modules. Executed in the
# same namespace as kernel.py (the names _K, Reset, TICKS_* come from there). Signatures follow
# the MicroPython stubs (micropython-esp32-stubs, checked by tests/test_firmware_stubs.py).

_NS_PER_MS = 1000000


def _name(ident):
    # Pin(5), Pin("5") and Pin(Pin(5)) all name pin "5"
    if isinstance(ident, Pin):
        return ident._name
    if isinstance(ident, (int, str)):
        return str(ident)
    raise TypeError("pin id must be an int, a str or a Pin")


def _after_active(ns):
    # the code before a blocking call runs for active_time first; the call starts after it
    return _K.t + _K.active_ns + max(0, ns)


# --- time ----------------------------------------------------------------------------------------
def sleep(seconds):
    _K.sleep_until("b", _after_active(int(round(seconds * 1000000000))))


def sleep_ms(ms):
    _K.sleep_until("b", _after_active(int(ms) * _NS_PER_MS))


def sleep_us(us):
    _K.sleep_until("b", _after_active(int(us) * 1000))


def ticks_ms():
    _K.check()
    return (_K.t // _NS_PER_MS) & TICKS_MAX


def ticks_us():
    _K.check()
    return (_K.t // 1000) & TICKS_MAX


def ticks_cpu():
    return ticks_us()


def ticks_diff(ticks1, ticks2):
    return ((ticks1 - ticks2 + TICKS_HALF) & TICKS_MAX) - TICKS_HALF


def ticks_add(ticks, delta):
    return (ticks + delta) & TICKS_MAX


def time_ns():
    _K.check()
    return _K.t + _K.rtc_offset


def time():
    return time_ns() // 1000000000


def _days_from_civil(y, m, d):
    # days since 1970-01-01 (proleptic Gregorian; H. Hinnant's algorithm)
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def gmtime(secs=None):
    if secs is None:
        secs = time()
    secs = int(secs)
    days, rem = divmod(secs, 86400)
    z = days + 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    y = yoe + era * 400 + (m <= 2)
    yday = days - _days_from_civil(y, 1, 1) + 1
    return (y, m, d, rem // 3600, (rem // 60) % 60, rem % 60, (days + 3) % 7, yday)


def localtime(secs=None):
    return gmtime(secs)  # the RTC keeps UTC, as on a board without a time zone


def mktime(local_time):
    y, m, d, hh, mm, ss = local_time[:6]
    return _days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss


# --- machine: functions --------------------------------------------------------------------------
def lightsleep(time_ms=None):
    _K.sleep_until("l", -1 if time_ms is None else _after_active(int(time_ms) * _NS_PER_MS))


def deepsleep(time_ms=None):
    _K.deepsleep(-1 if time_ms is None else _after_active(int(time_ms) * _NS_PER_MS))


def idle():
    _K.sleep_until("i", _after_active(_NS_PER_MS))  # wakes at the next 1 ms tick or timer


def reset_cause():
    _K.check()
    return _K.cause


def wake_reason():
    _K.check()
    return _K.wake


def freq(hz=None):
    if hz is None:
        _K.check()
        return _K.freq
    _K.set_freq(int(hz))


def unique_id():
    return _K.uid


def reset():
    _K.reset("hard")


def soft_reset():
    _K.reset("soft")


def disable_irq():
    return 0


def enable_irq(state):
    return None


# --- machine: classes ----------------------------------------------------------------------------
class Pin:
    IN = 1
    OUT = 3
    OPEN_DRAIN = 7
    PULL_UP = 2
    PULL_DOWN = 1
    IRQ_RISING = 1
    IRQ_FALLING = 2

    def __init__(self, id, mode=-1, pull=-1, *, value=None, drive=None, alt=None):
        self._name = _name(id)
        self._mode = self.IN
        self._pull = None
        self.init(mode, pull, value=value, drive=drive, alt=alt)

    def init(self, mode=-1, pull=-1, *, value=None, drive=None, alt=None):
        if mode != -1:
            self._mode = mode
        if pull != -1:
            self._pull = pull
        if value is not None:
            self.value(value)

    def value(self, x=None):
        if x is None:
            _K.check()
            return _K.levels.get(self._name, 0)
        _K.pin_write(self._name, 1 if x else 0)

    def __call__(self, x=None):
        return self.value(x)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    def toggle(self):
        self.value(0 if self.value() else 1)

    def mode(self, mode=None):
        if mode is None:
            return self._mode
        self._mode = mode

    def pull(self, pull=None):
        if pull is None:
            return self._pull
        self._pull = pull

    def __repr__(self):
        return "Pin(%s)" % self._name


class ADC:
    ATTN_0DB = 0
    ATTN_2_5DB = 1
    ATTN_6DB = 2
    ATTN_11DB = 3

    def __init__(self, id, *, sample_ns=None, atten=None):
        name = _name(id)
        if name not in _K.adcs:
            raise ValueError("no ADC channel %s in the scenario's [firmware] adc table" % name)
        self._k = _K.adcs[name]

    def init(self, *, sample_ns=None, atten=None):
        pass  # the full scale comes from the scenario's adc table

    def read_uv(self):
        # a calibrated reading (µV) quantised to the converter's resolution
        k = self._k
        bits, fs = _K.adc_bits[k], _K.adc_fs[k]
        return self._raw() * fs // (1 << bits)

    def read_u16(self):
        bits = _K.adc_bits[self._k]
        raw = self._raw()
        return (raw << (16 - bits)) | (raw >> (2 * bits - 16)) if bits < 16 else raw

    def _raw(self):
        k = self._k
        bits, fs = _K.adc_bits[k], _K.adc_fs[k]
        raw = _K.adc(k) * (1 << bits) // fs
        return 0 if raw < 0 else min(raw, (1 << bits) - 1)


class RTC:
    def __init__(self, id=0, *, datetime=None):
        if datetime is not None:
            self.datetime(datetime)

    def init(self, datetime=None):
        if datetime is not None:
            self.datetime(datetime)

    def datetime(self, datetimetuple=None):
        if datetimetuple is None:
            ns = time_ns()
            secs, sub = divmod(ns, 1000000000)
            g = gmtime(secs)
            return (g[0], g[1], g[2], g[6], g[3], g[4], g[5], sub // 1000)
        dt = tuple(datetimetuple) + (0,) * (8 - len(datetimetuple))
        secs = _days_from_civil(dt[0], dt[1], dt[2]) * 86400 + dt[4] * 3600 + dt[5] * 60 + dt[6]
        _K.set_rtc(secs * 1000000000 + dt[7] * 1000)

    def memory(self, data=None):
        if data is None:
            _K.check()
            return _K.memory
        _K.set_memory(data)


class Timer:
    ONE_SHOT = 0
    PERIODIC = 1

    def __init__(self, id, *, mode=1, period=None, callback=None, hard=None, freq=None, tick_hz=None):
        self._id = id
        self._rec = None
        if period is not None or freq is not None:
            self.init(mode=mode, period=period, callback=callback, hard=hard, freq=freq, tick_hz=tick_hz)

    def init(self, *, mode=1, period=None, callback=None, hard=None, freq=None, tick_hz=None):
        _K.check()
        self.deinit()
        if freq is not None:
            if freq <= 0:
                raise ValueError("freq must be positive")
            ns = 1000000000 // freq
        else:
            ns = (period if period is not None else -1) * 1000000000 // (tick_hz or 1000)
        if ns <= 0:
            raise ValueError("period must be positive")
        rec = Timer_(self)
        rec.period_ns = ns
        rec.periodic = mode == self.PERIODIC
        rec.callback = callback or (lambda t: None)
        rec.due = _K.t + ns
        _K.timers.append(rec)
        self._rec = rec

    def deinit(self):
        if self._rec is not None and self._rec in _K.timers:
            _K.timers.remove(self._rec)
        self._rec = None


class WDT:
    def __init__(self, *, id=0, timeout=5000):
        _K.check()
        if timeout < 1:
            raise ValueError("timeout must be at least 1 ms")
        _K.wdt_timeout = int(timeout) * _NS_PER_MS
        _K.wdt_feed()

    def feed(self):
        _K.wdt_feed()


# --- micropython (only needed under CPython; MicroPython has its own) ---------------------------
def const(expr):
    return expr


def native(_func):
    return _func


def viper(_func):
    return _func


def alloc_emergency_exception_buf(size):
    return None


def schedule(func, arg):
    func(arg)  # runs at once: the emulation has no interrupt context to defer from


def opt_level(level=None):
    return 0 if level is None else None


MODULES = {
    "time": ("sleep", "sleep_ms", "sleep_us", "ticks_ms", "ticks_us", "ticks_cpu", "ticks_diff",
             "ticks_add", "time", "time_ns", "localtime", "gmtime", "mktime"),
    "machine": ("Pin", "ADC", "RTC", "Timer", "WDT", "lightsleep", "deepsleep", "idle", "reset_cause",
                "wake_reason", "freq", "unique_id", "reset", "soft_reset", "disable_irq", "enable_irq",
                "PWRON_RESET", "HARD_RESET", "WDT_RESET", "DEEPSLEEP_RESET", "SOFT_RESET", "TIMER_WAKE"),
    "micropython": ("const", "native", "viper", "alloc_emergency_exception_buf", "schedule", "opt_level"),
}
ALIASES = {"utime": "time", "umachine": "machine"}


class _Module:
    def __init__(self, name):
        self.__name__ = name


def install(names):
    """Put namespace objects for ``names`` into sys.modules (MicroPython: the unix port and boards)."""
    import sys
    g = globals()
    for name in names:
        mod = _Module(name)
        for attr in MODULES[name]:
            setattr(mod, attr, g[attr])
        sys.modules[name] = mod
    for alias, name in ALIASES.items():
        if name in names:
            sys.modules[alias] = sys.modules[name]
