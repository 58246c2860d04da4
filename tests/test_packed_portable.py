"""The portable tier of ``src/leaky_pack.h`` (CPUs without SSE2, AVX2 or
AVX-512, e.g. aarch64), compiled here with ``-DLEAKY_PORTABLE`` into a
small program, packs like ``np.packbits``.  x86-64 builds never run this
code, so without this test it would go unchecked.  Skips without a C
compiler."""

import pathlib
import shutil
import subprocess

import numpy as np
import pytest

CC = shutil.which("cc") or shutil.which("gcc")
pytestmark = pytest.mark.skipif(CC is None, reason="no C compiler")
HEADER_DIR = pathlib.Path(__file__).resolve().parents[1] / "src"

PROGRAM = r"""
#include <stdio.h>
#include "leaky_pack.h"

/* stdin: n, then n raw values of the width given in argv; stdout: the bits */
int main(int argc, char **argv)
{
    int width = argv[1][0] - '0';           /* 2, 4 or 8 bytes */
    long n;
    if (argc < 2 || fread(&n, sizeof n, 1, stdin) != 1) return 2;
    static unsigned char values[1 << 20], bits[1 << 17];
    if ((long)fread(values, width, n, stdin) != n) return 3;
    long full = n / 8, rest = n % 8;
    if (width == 2) {
        leaky_pack_u16((const uint16_t *)values, bits, full, argv[1][1] == 'b' ? 0x7f80 : 0x7c00);
        if (rest) bits[full] = leaky_pack_tail_u16((const uint16_t *)values + 8 * full, rest,
                                                   argv[1][1] == 'b' ? 0x7f80 : 0x7c00);
    } else if (width == 4) {
        leaky_pack_u32((const uint32_t *)values, bits, full);
        if (rest) bits[full] = leaky_pack_tail_u32((const uint32_t *)values + 8 * full, rest,
                                                   LEAKY_FLOAT_INF);
    } else {
        leaky_pack_u64((const uint64_t *)values, bits, full);
        if (rest) bits[full] = leaky_pack_tail_u64((const uint64_t *)values + 8 * full, rest,
                                                   LEAKY_DOUBLE_INF);
    }
    fwrite(bits, 1, (n + 7) / 8, stdout);
    return 0;
}
"""


@pytest.fixture(scope="module")
def packer(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("portable")
    (tmp / "pack.c").write_text(PROGRAM)
    done = subprocess.run([CC, "-O2", "-Wall", "-Werror", "-DLEAKY_PORTABLE",
                           f"-I{HEADER_DIR}", str(tmp / "pack.c"), "-o", str(tmp / "pack")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return tmp / "pack"


def _pack(packer, x, kind):
    payload = np.int64(x.size).tobytes() + np.ascontiguousarray(x).tobytes()
    done = subprocess.run([str(packer), kind], input=payload, capture_output=True, timeout=60)
    assert done.returncode == 0
    return np.frombuffer(done.stdout, np.uint8)


@pytest.mark.parametrize("dtype, kind", [(np.float16, "2h"), (np.float32, "4"),
                                         (np.float64, "8"), ("bfloat16", "2b")])
@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 1000, 4099])
def test_portable_pack_equals_numpy_packbits(packer, dtype, kind, n):
    if dtype == "bfloat16":
        dtype = pytest.importorskip("ml_dtypes").bfloat16
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n).astype(dtype)
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 1e-45, -1e-45],
                        dtype=np.float64).astype(dtype)[: n]
    x[: specials.size] = specials
    with np.errstate(invalid="ignore"):
        want = np.packbits(x > 0, bitorder="little")
    np.testing.assert_array_equal(_pack(packer, x, kind), want)
