// libFuzzer harness: the PNG decoder must throw or succeed on any bytes, never trap or allocate
// beyond its pixel cap (4 Mi pixels here, to keep each run fast).
import FuzzSupport
import GlassboxData

runFuzzer { p, n in
    _ = try? PNGDecoder.decode(bytes(p, n), path: "fuzz.png", maxPixels: 1 << 22)
    return 0
}
