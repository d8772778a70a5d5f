// libFuzzer harness: the PGM/PPM reader must throw or succeed on any bytes, never trap.
import FuzzSupport
import GlassboxData

runFuzzer { p, n in
    _ = try? PNM.decode(bytes(p, n), path: "fuzz.pgm")
    return 0
}
