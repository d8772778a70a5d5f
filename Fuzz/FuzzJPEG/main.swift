// libFuzzer harness: the JPEG decoder must throw or succeed on any bytes, never trap or allocate
// beyond its pixel cap (4 Mi pixels here, to keep each run fast).
import FuzzSupport
import GlassboxData

runFuzzer { p, n in
    _ = try? JPEGDecoder.decode(bytes(p, n), path: "fuzz.jpg", maxPixels: 1 << 22)
    return 0
}
