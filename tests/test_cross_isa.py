"""The kernels' C on CPUs this machine is not: aarch64 (NEON and portable
tiers) and s390x (big-endian, portable tier), cross-compiled and run under
qemu-user, against the portable tier compiled for this machine.

``tests/cross_isa_driver.c`` repeats the loops of ``src/_kernels.pyx`` in C
over the headers of ``src/`` (Cython, Python and NumPy are not there under
qemu-user).  Every build answers the same requests: every float16 and
bfloat16 bit pattern, float32 and float64 special values and random bit
patterns, through forward, forward with a byte mask, backward from a byte
mask, packing, forward with packed bits and backward from packed bits,
unit-stride, strided and in place, at lengths and buffer offsets that
leave every kind of head and tail.  The answers must be the same bytes
(values in the target's byte order, decoded here), except for the sign of
the NaN a multiply makes from 0 * inf, which is the CPU's choice (x86
sets it, aarch64 and s390x do not).  The host's portable answers are held
to NumPy (and ml_dtypes for bfloat16) as well.

The tools come from apt (``qemu-user-static``, ``gcc-aarch64-linux-gnu``,
``gcc-s390x-linux-gnu``, ``binutils-aarch64-linux-gnu``); each target skips,
with the reason, where its tools are missing.  ``.ci/run`` installs them.
"""

import functools
import pathlib
import re
import shutil
import subprocess

import numpy as np
import pytest

HERE = pathlib.Path(__file__).resolve().parent
SRC = HERE.parent / "src"
DRIVER = HERE / "cross_isa_driver.c"
# The kernels' own flags (meson.build, src/meson.build), -O3 as meson-python's release build.
FLAGS = ["-std=c11", "-O3", "-Wall", "-Wextra", "-Werror", "-fno-trapping-math",
         "-fno-math-errno", "-Werror=incompatible-pointer-types", "-Werror=int-conversion",
         "-Werror=implicit-function-declaration", f"-I{SRC}"]

# name: compiler, emulator, extra flags, the LEAKY_ISA it must report, byte order
TARGETS = {
    "aarch64-neon": ("aarch64-linux-gnu-gcc", "qemu-aarch64-static", [], 1, "<"),
    "aarch64-portable": ("aarch64-linux-gnu-gcc", "qemu-aarch64-static",
                         ["-DLEAKY_PORTABLE"], 0, "<"),
    "s390x": ("s390x-linux-gnu-gcc", "qemu-s390x-static", [], 0, ">"),
}
APT = {"aarch64-linux-gnu-gcc": "gcc-aarch64-linux-gnu",
       "s390x-linux-gnu-gcc": "gcc-s390x-linux-gnu",
       "qemu-aarch64-static": "qemu-user-static", "qemu-s390x-static": "qemu-user-static",
       "aarch64-linux-gnu-objdump": "binutils-aarch64-linux-gnu"}
HOST_CC = shutil.which("cc") or shutil.which("gcc")

FORWARD, FORWARD_MASK, BACKWARD, FORWARD_BITS, BACKWARD_BITS, PACK = range(6)
BIAS_ACT_FORWARD, BIAS_ACT_BACKWARD = 6, 7  # lrelu, gain 1.5, clamp 0.7 (the driver's)
# type name: code in the driver, bits dtype, the float dtype the bits are
TYPES = {"half": (0, "u2", np.float16), "float": (1, "u4", np.float32),
         "double": (2, "u8", np.float64), "bfloat16": (3, "u2", None)}
SLOPES = [0.01, -0.7, 3.0e-5, 1.0e3, 0.0, 1.0 / 3.0]


def _missing(*tools):
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        packages = sorted({APT.get(tool, tool) for tool in missing})
        pytest.skip(f"{', '.join(missing)} not found (apt-get install {' '.join(packages)})")


def _compile(compiler, flags, out):
    done = subprocess.run([compiler, *FLAGS, *flags, str(DRIVER), "-o", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return out


@functools.lru_cache(maxsize=None)
def _build(target, tmp):
    """The driver built for ``target`` ("host" or a TARGETS key) in ``tmp``."""
    tmp = pathlib.Path(tmp)
    if target == "host":
        if HOST_CC is None:
            pytest.skip("no C compiler")
        return [str(_compile(HOST_CC, ["-DLEAKY_PORTABLE"], tmp / "driver-host"))]
    compiler, emulator, flags, _, _ = TARGETS[target]
    _missing(compiler, emulator)
    probe = tmp / f"probe-{target}.c"
    probe.write_text("int main(void) { return 0; }\n")
    linked = subprocess.run([compiler, "-static", str(probe), "-o", str(probe.with_suffix(""))],
                            capture_output=True, text=True, timeout=120)
    if linked.returncode != 0:
        pytest.skip(f"{compiler} cannot link a static program (its libc's -dev cross "
                    f"package missing?): {linked.stderr[-300:]}")
    binary = _compile(compiler, ["-static", *flags], tmp / f"driver-{target}")
    return [shutil.which(emulator), str(binary)]


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("cross_isa"))


# ------------------------------------------------------------ requests --

def _request(op, type_name, data, *, slope, offset=0, stride=1, inplace=False, bytes_in=None):
    """One request: its inputs as arrays of bits (native order here)."""
    n = len(data) // stride
    return {"op": op, "type": type_name, "n": n, "offset": offset, "stride": stride,
            "inplace": inplace, "slope": slope, "data": np.asarray(data),
            "bytes": None if bytes_in is None else np.asarray(bytes_in, np.uint8)}


def _encode(requests, order):
    parts = []
    for r in requests:
        header = np.array([r["op"], TYPES[r["type"]][0], r["n"], r["offset"], r["stride"],
                           int(r["inplace"])], dtype=order + "i8")
        parts += [header.tobytes(), np.array(r["slope"], order + "f8").tobytes(),
                  r["data"].astype(order + TYPES[r["type"]][1]).tobytes()]
        if r["bytes"] is not None:
            parts.append(r["bytes"].tobytes())
    return b"".join(parts)


def _decode(requests, stream, order):
    """Each request's answers: (values or None, bytes or None)."""
    answers, at = [], 0
    for r in requests:
        n, code = r["n"], TYPES[r["type"]][1]
        values = out_bytes = None
        if r["op"] != PACK:
            width = int(code[1])
            values = np.frombuffer(stream, order + code, n, at).astype(code)
            at += n * width
        if r["op"] in (FORWARD_MASK, FORWARD_BITS, PACK, BIAS_ACT_FORWARD):
            count = (n if r["op"] == FORWARD_MASK else
                     2 * ((n + 7) // 8) if r["op"] == BIAS_ACT_FORWARD else (n + 7) // 8)
            out_bytes = np.frombuffer(stream, np.uint8, count, at)
            at += count
        answers.append((values, out_bytes))
    assert at == len(stream), (at, len(stream))
    return answers


def _run(command, requests, order):
    done = subprocess.run(command, input=_encode(requests, order), capture_output=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr.decode()
    return _decode(requests, done.stdout, order)


# --------------------------------------------------------------- inputs --

def _specials(type_name):
    """Bit patterns of special values: zeros, infinities, NaNs (quiet and
    signaling, both signs, with payloads), the smallest and largest
    subnormals, the smallest normal, the largest finite, ones."""
    width = {"half": 16, "bfloat16": 16, "float": 32, "double": 64}[type_name]
    mantissa = {"half": 10, "bfloat16": 7, "float": 23, "double": 52}[type_name]
    sign = 1 << (width - 1)
    inf = ((1 << (width - 1 - mantissa)) - 1) << mantissa
    quiet = 1 << (mantissa - 1)
    one = (inf >> 1) & ~((1 << mantissa) - 1)     # exponent bias, mantissa 0
    magnitudes = [0, inf, inf | quiet, inf | 1, inf | quiet | 5, inf | (quiet - 1),
                  1, (1 << mantissa) - 1, 1 << mantissa, inf - 1, one, one | 1,
                  one - 1, (1 << mantissa) + 1]
    bits = magnitudes + [m | sign for m in magnitudes]
    return np.array(bits, dtype=np.uint64).astype(TYPES[type_name][1])


def _values(type_name, rng):
    """Every pattern for 16-bit types (plus a few, so the length is odd);
    specials and random patterns and random normals for float and double."""
    code = TYPES[type_name][1]
    if code == "u2":
        return np.concatenate([np.arange(1 << 16, dtype=np.uint16), _specials(type_name)[:5]])
    float_type = TYPES[type_name][2]
    with np.errstate(over="ignore", under="ignore"):
        normal = rng.standard_normal(6000) * 10.0 ** rng.integers(-40, 40, 6000)
        normal = normal.astype(float_type)
    patterns = rng.integers(0, np.iinfo(code).max, 6000, dtype=code, endpoint=True)
    return np.concatenate([_specials(type_name), patterns, normal.view(code),
                           _specials(type_name)[:3]])


def _requests(rng):
    """The requests every build answers, and for each, its inputs."""
    requests = []
    for type_name in TYPES:
        values = _values(type_name, rng)
        n = len(values)
        mask = rng.choice(np.array([0, 1, 2, 255], np.uint8), n)
        bits = rng.integers(0, 256, (n + 7) // 8, dtype=np.uint8)
        for slope in SLOPES:
            requests += [
                _request(FORWARD, type_name, values, slope=slope),
                _request(FORWARD, type_name, values, slope=slope, offset=3, inplace=True),
                _request(FORWARD_MASK, type_name, values, slope=slope, offset=1),
                _request(BACKWARD, type_name, values, slope=slope, bytes_in=mask),
                _request(FORWARD_BITS, type_name, values, slope=slope, offset=5),
                _request(BACKWARD_BITS, type_name, values, slope=slope, offset=7,
                         bytes_in=bits),
                _request(FORWARD, type_name, np.repeat(values, 2), slope=slope, stride=2),
                _request(BACKWARD, type_name, np.repeat(values, 3), slope=slope, stride=3,
                         bytes_in=mask),
            ]
        requests.append(_request(PACK, type_name, values, slope=0.0))
        # heads and tails: every length to 70, then around the block sizes,
        # at several offsets from a 64-byte boundary, in place and not
        pool = np.concatenate([_specials(type_name),
                               rng.choice(values, 4200)])
        lengths = list(range(71)) + [95, 96, 97, 127, 128, 129, 255, 256, 257, 1023, 1024,
                                     1025, 1031, 2047, 2048, 2049, 4099]
        for k, length in enumerate(lengths):
            x = rng.permutation(pool)[:length]
            mask = rng.choice(np.array([0, 1, 7], np.uint8), length)
            bits = rng.integers(0, 256, (length + 7) // 8, dtype=np.uint8)
            offset = int(rng.integers(0, 16))
            inplace = bool(k % 2)
            requests += [
                _request(op, type_name, x, slope=0.01, offset=offset, inplace=inplace,
                         bytes_in=mask if op == BACKWARD else bits if op == BACKWARD_BITS
                         else None)
                for op in (FORWARD, FORWARD_MASK, BACKWARD, FORWARD_BITS, BACKWARD_BITS)]
            requests.append(_request(PACK, type_name, x, slope=0.0, offset=offset))
            planes = rng.integers(0, 256, 2 * ((length + 7) // 8), dtype=np.uint8)
            requests += [_request(BIAS_ACT_FORWARD, type_name, x, slope=-0.3, offset=offset),
                         _request(BIAS_ACT_BACKWARD, type_name, x, slope=0.2, offset=offset,
                                  bytes_in=planes)]
    return requests


@pytest.fixture(scope="module")
def requests():
    return _requests(np.random.default_rng(25))


@pytest.fixture(scope="module")
def reference(build_dir, requests):
    """The host's portable tier's answers."""
    return _run(_build("host", build_dir), requests, "=")


# ------------------------------------------------------------- checks --

def _made_nan(r):
    """Where an answer is a NaN made by the multiply (0 * inf), not passed
    on from a NaN input: its sign is the CPU's.  bias_act also adds, and
    inf + -inf makes one: there every NaN of the answer counts."""
    if r["op"] == PACK:
        return None
    code = TYPES[r["type"]][1]
    x = r["data"].astype(code)[:: r["stride"]]
    width = int(code[1]) * 8
    sign = np.array(1 << (width - 1), dtype=np.uint64).astype(code)
    magnitude = x & ~sign
    inf = {"half": 0x7c00, "bfloat16": 0x7f80, "float": 0x7f800000,
           "double": 0x7ff0000000000000}[r["type"]]
    if r["op"] == BIAS_ACT_FORWARD:
        return np.ones(x.shape, bool)  # NaNs compared as NaN by _same
    return (r["slope"] == 0.0) & (magnitude == inf)


def _is_nan(type_name, bits):
    """Which bit patterns of ``type_name`` are NaNs."""
    width = int(TYPES[type_name][1][1]) * 8
    code = TYPES[type_name][1]
    sign = np.array(1 << (width - 1), dtype=np.uint64).astype(code)
    inf = {"half": 0x7c00, "bfloat16": 0x7f80, "float": 0x7f800000,
           "double": 0x7ff0000000000000}[type_name]
    return (bits & ~sign) > np.array(inf, dtype=np.uint64).astype(code)


def _same(r, got, want, where):
    values, out_bytes = got
    want_values, want_bytes = want
    if want_bytes is not None:
        np.testing.assert_array_equal(out_bytes, want_bytes, err_msg=where)
    if want_values is None:
        return
    made = _made_nan(r)
    differ = values != want_values
    if made is not None:
        differ &= ~(made & _is_nan(r["type"], values) & _is_nan(r["type"], want_values))
    bad = np.flatnonzero(differ)
    assert bad.size == 0, (
        f"{where}: {bad.size} of {values.size} differ; first at {bad[0]}: input "
        f"{r['data'][:: r['stride']][bad[0]]:#x}, got {values[bad[0]]:#x}, "
        f"want {want_values[bad[0]]:#x}")


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_target_answers_as_the_portable_tier_here(target, build_dir, requests, reference):
    command = _build(target, build_dir)
    isa = subprocess.run([*command, "isa"], capture_output=True, text=True, timeout=120)
    assert isa.returncode == 0, isa.stderr
    assert int(isa.stdout.split()[0]) == TARGETS[target][3], isa.stdout
    answers = _run(command, requests, TARGETS[target][4])
    for k, (r, got, want) in enumerate(zip(requests, answers, reference)):
        where = (f"{target}: request {k}: op {r['op']} {r['type']} n={r['n']} slope={r['slope']} "
                 f"offset={r['offset']} stride={r['stride']} inplace={r['inplace']}")
        _same(r, got, want, where)


def _numpy_forward(type_name, bits, slope):
    """y, x > 0 by NumPy (ml_dtypes for bfloat16): y as floats."""
    code, float_type = TYPES[type_name][1], TYPES[type_name][2]
    if float_type is None:
        float_type = pytest.importorskip("ml_dtypes").bfloat16
    x = bits.astype(code).view(float_type)
    compute = np.float64 if type_name == "double" else np.float32
    with np.errstate(all="ignore"):
        product = (x.astype(compute) * compute(slope)).astype(float_type)
        keep = x > 0
    return np.where(keep, x, product), keep


@pytest.mark.parametrize("type_name", sorted(TYPES))
def test_the_reference_is_numpy(type_name, requests, reference):
    """The host's portable answers, for the forward and packing requests,
    are NumPy's values (NaN as NaN) and np.packbits of x > 0."""
    checked = 0
    for r, (values, out_bytes) in zip(requests, reference):
        if r["type"] != type_name or r["op"] not in (FORWARD, FORWARD_BITS, PACK):
            continue
        want, keep = _numpy_forward(type_name, r["data"][:: r["stride"]], r["slope"])
        if out_bytes is not None:
            np.testing.assert_array_equal(out_bytes, np.packbits(keep, bitorder="little"))
        if values is not None:
            got = values.view(want.dtype)
            nan = np.isnan(want.astype(np.float64))
            np.testing.assert_array_equal(np.isnan(got.astype(np.float64)), nan)
            np.testing.assert_array_equal(got.view(TYPES[type_name][1])[~nan],
                                          want.view(TYPES[type_name][1])[~nan])
        checked += 1
    assert checked > 100


def _disassembly(build_dir, function):
    _missing("aarch64-linux-gnu-objdump")
    binary = _build("aarch64-neon", build_dir)[1]
    listing = subprocess.run(["aarch64-linux-gnu-objdump", "-d", binary], capture_output=True,
                             text=True, timeout=120, check=True).stdout
    body = re.search(rf"^[0-9a-f]+ <{function}>:\n(.*?)(?:\n\n|\Z)", listing, re.S | re.M)
    assert body, f"{function} not in the disassembly"
    return set(re.findall(r"^\s*[0-9a-f]+:\s+(?:[0-9a-f]{8}\s+)?([a-z0-9.]+)", body.group(1),
                          re.M))


def test_aarch64_half_forward_converts_with_fcvtl_and_fcvtn(build_dir):
    """The NEON build's float16 forward loop widens with fcvtl and narrows
    with fcvtn (and their upper-half forms), not integer bit tricks."""
    ops = _disassembly(build_dir, "leaky_test_forward_half")
    assert {"fcvtl", "fcvtl2", "fcvtn", "fcvtn2"} <= ops, sorted(ops)


def test_aarch64_bfloat16_forward_is_neon(build_dir):
    """The NEON build's bfloat16 forward loop widens by shll and narrows by
    shrn, eight lanes at a time."""
    ops = _disassembly(build_dir, "leaky_test_forward_bfloat16")
    assert {"shll", "shll2", "shrn"} <= ops, sorted(ops)
