// libFuzzer harness: the NPY reader must throw or succeed on any bytes, never trap.
import FuzzSupport
import GlassboxData

runFuzzer { p, n in
    _ = try? NPY.decode(bytes(p, n), path: "fuzz.npy")
    return 0
}
