// libFuzzer harness: the JPEG decoder must throw or succeed on any bytes, never trap or allocate
// beyond its pixel cap (256 Ki pixels here: a size-lying header costs a full decode of
// that many pixels, so a smaller cap keeps the run rate up).
import FuzzSupport
import GlassboxData

runFuzzer { p, n in
    _ = try? JPEGDecoder.decode(bytes(p, n), path: "fuzz.jpg", maxPixels: 1 << 18)
    return 0
}
